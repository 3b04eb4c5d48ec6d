package com.connectorreceiver.client;

import java.io.Closeable;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLSocketFactory;

/**
 * The client of a connector-receiver: every operation the Connector calls, typed.
 *
 * <pre>{@code
 * try (ReceiverClient receiver = ReceiverClient.create(baseUrl, username, password)) {
 *     Saved<Prospect> saved = receiver.prospects().save("crm-4711", new Prospect()
 *         .setClubId("club-001").setFirstName("Ana").setLastName("Silva").setEmail("ana@example.com"));
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> One instance serves any number of threads; it keeps a pool of
 * persistent connections. Create one per receiver and close it at shutdown.
 *
 * <p><b>Errors.</b> An error status throws {@link ProblemException} (the RFC 9457 problem:
 * status, type, title, detail, field errors, request id, {@code existingId} on a 409); no
 * answer throws {@link ReceiverConnectionException}. Both are unchecked.
 *
 * <p><b>Retries.</b> A {@code 503} or {@code 429} (the server did nothing and says when to come
 * back) is retried after its {@code Retry-After}, when that is within
 * {@link Builder#maxRetryWait(Duration)}. A network failure is retried, with exponential backoff
 * and jitter, only when repeating the call is safe: reads, saves by external id (PUT),
 * deactivations (DELETE), and creates ({@code POST}): every {@code POST} carries an
 * {@code Idempotency-Key}, generated per call and the same on each of its retries, so the
 * receiver applies it once. A {@code PATCH} is never repeated once it may have reached the
 * server. At most {@link Builder#maxRetries(int)} retries per call.
 */
public final class ReceiverClient implements Closeable {
    /** The library's version, sent in {@code User-Agent}. */
    public static final String VERSION = "1.0.0";

    /**
     * Watches every attempt of every call; called on the calling thread, so it must be quick
     * and must not throw.
     */
    public interface Listener {
        /**
         * An attempt ended.
         *
         * @param attempt what was sent and what came back
         */
        void onAttempt(Attempt attempt);
    }

    /** Settings of a {@link ReceiverClient}; from {@link ReceiverClient#builder(String, String, String)}. */
    public static final class Builder {
        private final URI baseUri;
        private final String username;
        private final String password;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(30);
        private int maxRetries = 3;
        private Duration maxRetryWait = Duration.ofSeconds(30);
        private Duration maxIdle = Duration.ofSeconds(50);
        private int maxIdleConnections = 16;
        private Listener listener;
        private SSLSocketFactory sslSocketFactory;
        private String userAgentSuffix;

        private Builder(String baseUrl, String username, String password) {
            if (baseUrl == null || username == null || password == null) {
                throw new IllegalArgumentException("the base URL, username and password are required");
            }
            URI uri = URI.create(baseUrl);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("the base URL must be http(s)://host[:port][/path]: " + baseUrl);
            }
            this.baseUri = uri;
            this.username = username;
            this.password = password;
        }

        /**
         * @param timeout to open a connection (default 10 s)
         * @return this
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * @param timeout to wait for any byte of a response (default 30 s)
         * @return this
         */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "readTimeout");
            return this;
        }

        /**
         * @param retries retries per call at most (default 3; 0: none)
         * @return this
         */
        public Builder maxRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0");
            }
            this.maxRetries = retries;
            return this;
        }

        /**
         * @param wait the longest {@code Retry-After} the client waits for; a longer one ends the
         *             call with the {@code 503}/{@code 429} (default 30 s)
         * @return this
         */
        public Builder maxRetryWait(Duration wait) {
            if (wait == null || wait.isNegative()) {
                throw new IllegalArgumentException("maxRetryWait must be >= 0");
            }
            this.maxRetryWait = wait;
            return this;
        }

        /**
         * @param idle the longest a pooled connection is kept idle (default 50 s); the server's
         *             {@code Keep-Alive: timeout} shortens it
         * @return this
         */
        public Builder maxIdle(Duration idle) {
            if (idle == null || idle.isNegative()) {
                throw new IllegalArgumentException("maxIdle must be >= 0");
            }
            this.maxIdle = idle;
            return this;
        }

        /**
         * @param connections idle connections kept at most (default 16)
         * @return this
         */
        public Builder maxIdleConnections(int connections) {
            if (connections < 0) {
                throw new IllegalArgumentException("maxIdleConnections must be >= 0");
            }
            this.maxIdleConnections = connections;
            return this;
        }

        /**
         * @param listener told of every attempt (logging, metrics), or null
         * @return this
         */
        public Builder listener(Listener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * @param factory TLS sockets for an {@code https} base URL (default: the JVM's)
         * @return this
         */
        public Builder sslSocketFactory(SSLSocketFactory factory) {
            this.sslSocketFactory = factory;
            return this;
        }

        /**
         * @param suffix appended to the {@code User-Agent}, e.g. your application and version
         * @return this
         */
        public Builder userAgentSuffix(String suffix) {
            this.userAgentSuffix = suffix;
            return this;
        }

        /** @return the client */
        public ReceiverClient build() {
            return new ReceiverClient(this);
        }

        private static Duration positive(Duration value, String name) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return value;
        }
    }

    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;

    private final HttpTransport transport;
    private final String basePath;
    private final String authorization;
    private final String userAgent;
    private final int maxRetries;
    private final long maxRetryWaitMillis;
    private final long readTimeoutMillis;
    private final Listener listener;
    private final Prospects prospects = new Prospects(this);
    private final Members members = new Members(this);
    private final StaffDirectory staff = new StaffDirectory(this);
    private final LeadSources leadSources = new LeadSources(this);
    private final ChangeFeed changes = new ChangeFeed(this);

    private ReceiverClient(Builder builder) {
        URI uri = builder.baseUri;
        boolean https = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() >= 0 ? uri.getPort() : (https ? 443 : 80);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        this.basePath = path;
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        SSLSocketFactory tls = builder.sslSocketFactory != null ? builder.sslSocketFactory
            : (https ? (SSLSocketFactory) SSLSocketFactory.getDefault() : null);
        this.transport = new HttpTransport(https, host, port, (int) builder.connectTimeout.toMillis(),
            (int) builder.readTimeout.toMillis(), builder.maxIdle.toNanos(), builder.maxIdleConnections, tls);
        String credentials = builder.username + ":" + builder.password;
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
        this.userAgent = "connector-receiver-java/" + VERSION + " (Java " + System.getProperty("java.version") + ")"
            + (builder.userAgentSuffix == null ? "" : " " + builder.userAgentSuffix);
        this.maxRetries = builder.maxRetries;
        this.readTimeoutMillis = builder.readTimeout.toMillis();
        this.maxRetryWaitMillis = builder.maxRetryWait.toMillis();
        this.listener = builder.listener;
    }

    /**
     * A client with the default settings.
     *
     * @param baseUrl  the receiver's base URL from the turn-up sheet, e.g. {@code https://receiver.example.com}
     * @param username the username from the turn-up sheet
     * @param password the password issued at turn-up
     * @return the client
     */
    public static ReceiverClient create(String baseUrl, String username, String password) {
        return builder(baseUrl, username, password).build();
    }

    /**
     * Settings for a client.
     *
     * @param baseUrl  the receiver's base URL from the turn-up sheet
     * @param username the username from the turn-up sheet
     * @param password the password issued at turn-up
     * @return a builder
     */
    public static Builder builder(String baseUrl, String username, String password) {
        return new Builder(baseUrl, username, password);
    }

    /** @return prospects: save, create, update, get, list, convert */
    public Prospects prospects() {
        return prospects;
    }

    /** @return members: save, create, update, get, list */
    public Members members() {
        return members;
    }

    /** @return the client's staff (read-only) */
    public StaffDirectory staff() {
        return staff;
    }

    /** @return lead sources: list, get, create, update, deactivate */
    public LeadSources leadSources() {
        return leadSources;
    }

    /** @return the change feed (for club systems, with a reader credential or the Connector's) */
    public ChangeFeed changes() {
        return changes;
    }

    /** @return the {@code User-Agent} this client sends */
    public String getUserAgent() {
        return userAgent;
    }

    long readTimeoutMillis() {
        return readTimeoutMillis;
    }

    HttpTransport transport() {
        return transport;
    }

    /** Closes the pooled connections. Calls still running finish; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        transport.close();
    }

    // ------------------------------------------------------------------ the calls

    /** A call's request, before it is sent. */
    static final class Call {
        final String method;
        final String path;
        String query = "";
        Object body;
        String contentType = "application/json";
        final Map<String, String> headers = new LinkedHashMap<String, String>();
        String idempotencyKey;
        /** This call's read timeout in milliseconds, or 0 for the client's. */
        int readTimeoutMillis;

        Call(String method, String path) {
            this.method = method;
            this.path = path;
        }

        Call query(ListQuery query) {
            this.query = query == null ? "" : query.toQueryString();
            return this;
        }

        Call body(Object body) {
            this.body = body;
            return this;
        }

        Call header(String name, String value) {
            headers.put(name, value);
            return this;
        }
    }

    /** The path of a resource under the base URL; segments are percent-encoded. */
    static String path(String... segments) {
        StringBuilder out = new StringBuilder();
        for (String segment : segments) {
            if (segment.startsWith("/")) {
                out.append(segment);
            } else {
                if (segment.isEmpty()) {
                    throw new IllegalArgumentException("an id must not be empty");
                }
                out.append('/').append(Urls.encode(segment));
            }
        }
        return out.toString();
    }

    static String etag(long version) {
        return "\"" + version + "\"";
    }

    /**
     * Sends a call with its retries; answers a 2xx or 304 response, throws for the rest.
     */
    HttpTransport.Response send(Call call) {
        boolean idempotent = !call.method.equals("PATCH");
        if (call.method.equals("POST") && call.idempotencyKey == null) {
            call.idempotencyKey = UUID.randomUUID().toString();
        }
        Map<String, String> headers = new LinkedHashMap<String, String>();
        headers.put("User-Agent", userAgent);
        headers.put("Accept", "application/json, application/problem+json");
        headers.put("Authorization", authorization);
        byte[] body = null;
        if (call.body != null) {
            headers.put("Content-Type", call.contentType);
            body = Json.write(call.body).getBytes(StandardCharsets.UTF_8);
        }
        if (call.idempotencyKey != null) {
            headers.put("Idempotency-Key", call.idempotencyKey);
        }
        headers.putAll(call.headers);
        String target = basePath + call.path + call.query;
        for (int attempt = 1; ; attempt++) {
            HttpTransport.Response response;
            try {
                response = call.readTimeoutMillis > 0
                    ? transport.execute(call.method, target, headers, body, call.readTimeoutMillis)
                    : transport.execute(call.method, target, headers, body);
            } catch (HttpTransport.ExchangeFailure failure) {
                boolean safe = !failure.requestSent || idempotent;
                long delay = safe && attempt <= maxRetries ? (failure.staleConnection ? 0 : backoffMillis(attempt)) : -1;
                report(call, target, attempt, 0, failure, delay);
                if (delay < 0) {
                    String why = safe ? "after " + attempt + " attempts"
                        : "(a " + call.method + " that may have reached the server is not repeated)";
                    throw new ReceiverConnectionException(
                        call.method + " " + target + " failed " + why + ": " + failure.getMessage(), failure,
                        failure.requestSent, attempt);
                }
                sleep(delay, call, target, attempt, failure);
                continue;
            }
            int status = response.status;
            if ((status >= 200 && status < 300) || status == 304) {
                report(call, target, attempt, status, null, -1);
                return response;
            }
            Long retryAfter = retryAfterSeconds(response.header("Retry-After"));
            long delay = -1;
            if ((status == 503 || status == 429) && attempt <= maxRetries) {
                long wait = retryAfter != null ? retryAfter * 1000 : backoffMillis(attempt);
                if (wait <= maxRetryWaitMillis) {
                    // A little jitter on top, so that the callers a server shed together do not
                    // all come back in the same millisecond.
                    delay = retryAfter != null ? wait + ThreadLocalRandom.current().nextLong(Math.min(1000, wait / 4) + 1) : wait;
                }
            }
            report(call, target, attempt, status, null, delay);
            if (delay < 0) {
                throw ProblemException.from(response, retryAfter);
            }
            sleep(delay, call, target, attempt, null);
        }
    }

    private void report(Call call, String target, int attempt, int status, Exception failure, long delay) {
        if (listener != null) {
            listener.onAttempt(new Attempt(call.method, target, attempt, call.idempotencyKey, status, failure, delay));
        }
    }

    private static void sleep(long millis, Call call, String target, int attempt, Exception failure) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReceiverConnectionException(call.method + " " + target + ": interrupted while waiting to retry",
                failure != null ? failure : e, failure != null, attempt);
        }
    }

    /** 200 ms, 400 ms, 800 ms, … up to 5 s, each between half and all of it (jitter). */
    static long backoffMillis(int attempt) {
        long ceiling = Math.min(5000L, 200L << Math.min(attempt - 1, 10));
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }

    /** {@code Retry-After} (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; null when absent or bad. */
    static Long retryAfterSeconds(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value.trim();
        try {
            return Math.max(0L, Long.parseLong(trimmed));
        } catch (NumberFormatException notSeconds) {
            try {
                long at = ZonedDateTime.parse(trimmed, HTTP_DATE).toEpochSecond();
                return Math.max(0L, at - System.currentTimeMillis() / 1000);
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    // ------------------------------------------------------------------ shared by the resources

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(HttpTransport.Response response) {
        Object parsed;
        try {
            parsed = Json.parse(response.bodyText());
        } catch (IllegalArgumentException e) {
            throw new ReceiverException("the receiver's answer is not JSON (status " + response.status + ")", e);
        }
        if (!(parsed instanceof Map)) {
            throw new ReceiverException("the receiver's answer is not a JSON object (status " + response.status + ")", null);
        }
        return (Map<String, Object>) parsed;
    }

    /** Maps a JSON object to a record. */
    interface Factory<T> {
        T make(Map<String, Object> fields);
    }

    @SuppressWarnings("unchecked")
    <T> Page<T> page(String path, ListQuery query, Factory<T> factory) {
        Map<String, Object> document = object(send(new Call("GET", path).query(query)));
        List<T> items = new ArrayList<T>();
        Object list = document.get("items");
        if (list instanceof List) {
            for (Object item : (List<Object>) list) {
                items.add(factory.make((Map<String, Object>) item));
            }
        }
        Object next = document.get("nextCursor");
        return new Page<T>(items, next instanceof String ? (String) next : null);
    }

    /** Every item of a list, fetching the pages as the iteration reaches them. */
    <T> Iterable<T> all(final String path, final ListQuery query, final Factory<T> factory) {
        final ListQuery start = query == null ? new ListQuery() : query.copy();
        return new Iterable<T>() {
            @Override
            public Iterator<T> iterator() {
                return new Iterator<T>() {
                    private final ListQuery next = start.copy();
                    private Iterator<T> current;
                    private boolean last;

                    @Override
                    public boolean hasNext() {
                        while (current == null || !current.hasNext()) {
                            if (last) {
                                return false;
                            }
                            Page<T> page = page(path, next, factory);
                            current = page.getItems().iterator();
                            last = !page.hasNext();
                            next.cursor(page.getNextCursor());
                        }
                        return true;
                    }

                    @Override
                    public T next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        return current.next();
                    }

                    @Override
                    public void remove() {
                        throw new UnsupportedOperationException();
                    }
                };
            }
        };
    }
}
