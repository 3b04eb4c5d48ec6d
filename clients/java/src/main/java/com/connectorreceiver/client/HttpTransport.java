package com.connectorreceiver.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * HTTP/1.1 over a pool of persistent connections (RFC 9112), just what the receiver's API
 * needs: requests with a {@code Content-Length} body, responses framed by
 * {@code Content-Length}, chunked coding or the end of the connection.
 *
 * <p>Pooled connections are dropped once idle for the {@code Keep-Alive: timeout} the server
 * announced (the receiver announces a little less than its own idle timeout), or the
 * configured maximum; one idle for a while is checked before reuse (a closed socket reads
 * end-of-stream at once). Thread-safe.
 */
final class HttpTransport implements Closeable {
    /** A response, its body read in full. */
    static final class Response {
        final int status;
        final Map<String, List<String>> headers;
        final byte[] body;

        Response(int status, Map<String, List<String>> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        /** The field's value (several joined with ", "), or null. Names are case-insensitive. */
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            if (values == null) {
                return null;
            }
            StringBuilder joined = new StringBuilder();
            for (String value : values) {
                if (joined.length() > 0) {
                    joined.append(", ");
                }
                joined.append(value);
            }
            return joined.toString();
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** An exchange that failed on the network. */
    static final class ExchangeFailure extends IOException {
        private static final long serialVersionUID = 1L;
        /** False when not one byte of the request went out (the connection could not be made). */
        final boolean requestSent;
        /** A reused pooled connection ended before any byte of a response. */
        final boolean staleConnection;

        ExchangeFailure(String message, IOException cause, boolean requestSent, boolean staleConnection) {
            super(message, cause);
            this.requestSent = requestSent;
            this.staleConnection = staleConnection;
        }
    }

    private static final class Connection {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        long idleSinceNanos;
        long expiresAtNanos;
        boolean reused;
        /** The socket's read timeout is not the default (set for a long poll). */
        boolean customTimeout;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            this.out = socket.getOutputStream();
        }

        void closeQuietly() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private static final int MAX_LINE = 64 * 1024;
    private static final int MAX_HEADER_LINES = 200;

    private final boolean https;
    private final String host;
    private final int port;
    private final String hostHeader;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private final long maxIdleNanos;
    private final int maxIdleConnections;
    private final SSLSocketFactory sslSocketFactory;
    private final Deque<Connection> idle = new ArrayDeque<Connection>();
    private final AtomicLong connectionsOpened = new AtomicLong();
    private boolean closed;

    /** Checked before reuse when idle longer than this; package-private for tests. */
    volatile long validateAfterNanos = 1_000_000_000L;
    /** Whether the server's {@code Keep-Alive: timeout} bounds reuse; package-private for tests. */
    volatile boolean honourKeepAliveTimeout = true;

    HttpTransport(boolean https, String host, int port, int connectTimeoutMillis, int readTimeoutMillis,
                  long maxIdleNanos, int maxIdleConnections, SSLSocketFactory sslSocketFactory) {
        this.https = https;
        this.host = host;
        this.port = port;
        boolean defaultPort = port == (https ? 443 : 80);
        String hostName = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        this.hostHeader = defaultPort ? hostName : hostName + ":" + port;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.readTimeoutMillis = readTimeoutMillis;
        this.maxIdleNanos = maxIdleNanos;
        this.maxIdleConnections = maxIdleConnections;
        this.sslSocketFactory = sslSocketFactory;
    }

    /** Connections opened so far (for tests and metrics). */
    long connectionsOpened() {
        return connectionsOpened.get();
    }

    /** Idle pooled connections now. */
    synchronized int idleConnections() {
        return idle.size();
    }

    /**
     * Sends a request and reads its response.
     *
     * @param target  origin-form target ({@code /v1/...?...}), already percent-encoded
     * @param headers extra request fields
     * @param body    the body, or null for none
     * @throws ExchangeFailure on any network failure; it says whether the request went out
     * @throws IllegalStateException after {@link #close()}
     */
    Response execute(String method, String target, Map<String, String> headers, byte[] body) throws ExchangeFailure {
        return execute(method, target, headers, body, readTimeoutMillis);
    }

    /**
     * As {@link #execute(String, String, Map, byte[])} with this call's own read timeout (a
     * long poll waits longer than a plain call).
     */
    Response execute(String method, String target, Map<String, String> headers, byte[] body, int readTimeout)
        throws ExchangeFailure {
        Connection connection;
        try {
            connection = acquire();
        } catch (IOException e) {
            throw new ExchangeFailure("cannot connect to " + hostHeader + ": " + e.getMessage(), e, false, false);
        }
        boolean reused = connection.reused;
        boolean responseStarted = false;
        try {
            if (readTimeout != readTimeoutMillis || connection.customTimeout) {
                connection.socket.setSoTimeout(readTimeout);
                connection.customTimeout = readTimeout != readTimeoutMillis;
            }
            connection.out.write(head(method, target, headers, body));
            if (body != null) {
                connection.out.write(body);
            }
            connection.out.flush();
            int first = connection.in.read();
            if (first < 0) {
                throw new EOFException("the server closed the connection without a response");
            }
            responseStarted = true;
            return readResponse(connection, first, method);
        } catch (IOException e) {
            connection.closeQuietly();
            boolean stale = reused && !responseStarted && !(e instanceof SocketTimeoutException);
            throw new ExchangeFailure(
                method + " " + target + " failed" + (stale ? " on a stale pooled connection" : "") + ": " + e, e,
                true, stale);
        } catch (RuntimeException e) {
            connection.closeQuietly();
            throw e;
        }
    }

    private byte[] head(String method, String target, Map<String, String> headers, byte[] body) {
        StringBuilder head = new StringBuilder(256);
        head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(hostHeader).append("\r\n");
        for (Map.Entry<String, String> field : headers.entrySet()) {
            String value = field.getValue();
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '\r' || c == '\n' || c == 0) {
                    throw new IllegalArgumentException("illegal character in the " + field.getKey() + " field");
                }
            }
            head.append(field.getKey()).append(": ").append(value).append("\r\n");
        }
        if (body != null || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
        }
        head.append("\r\n");
        return head.toString().getBytes(StandardCharsets.UTF_8);
    }

    private Response readResponse(Connection connection, int first, String method) throws IOException {
        while (true) {
            String statusLine = (char) first + readLine(connection.in);
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
                throw new IOException("not an HTTP/1.x response: " + abbreviate(statusLine));
            }
            boolean http10 = statusLine.charAt(7) == '0';
            int status;
            try {
                status = Integer.parseInt(statusLine.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("bad status line: " + abbreviate(statusLine));
            }
            Map<String, List<String>> headers = readHeaders(connection.in);
            if (status >= 100 && status < 200) {
                // An interim response (100 Continue, 103 Early Hints): the final one follows.
                first = connection.in.read();
                if (first < 0) {
                    throw new EOFException("the connection ended after an interim response");
                }
                continue;
            }
            byte[] body;
            boolean readToEnd = false;
            String transferEncoding = joined(headers, "transfer-encoding");
            String contentLength = joined(headers, "content-length");
            if (method.equals("HEAD") || status == 204 || status == 304) {
                body = new byte[0];
            } else if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).endsWith("chunked")) {
                body = readChunked(connection.in);
            } else if (contentLength != null) {
                long length;
                try {
                    length = Long.parseLong(contentLength.trim());
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length: " + contentLength);
                }
                if (length < 0 || length > Integer.MAX_VALUE - 8) {
                    throw new IOException("bad Content-Length: " + contentLength);
                }
                body = readExactly(connection.in, (int) length);
            } else {
                body = readAll(connection.in);
                readToEnd = true;
            }
            String connectionField = joined(headers, "connection");
            String tokens = connectionField == null ? "" : connectionField.toLowerCase(Locale.ROOT);
            boolean keep = !readToEnd && !tokens.contains("close") && (!http10 || tokens.contains("keep-alive"));
            if (keep) {
                release(connection, keepAliveTimeoutSeconds(joined(headers, "keep-alive")));
            } else {
                connection.closeQuietly();
            }
            return new Response(status, headers, body);
        }
    }

    /** The {@code timeout} parameter of a {@code Keep-Alive} field, or -1. */
    static long keepAliveTimeoutSeconds(String keepAlive) {
        if (keepAlive == null) {
            return -1;
        }
        for (String part : keepAlive.split(",")) {
            String[] pair = part.trim().split("=", 2);
            if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("timeout")) {
                try {
                    return Long.parseLong(pair[1].trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static String joined(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        if (values == null) {
            return null;
        }
        if (values.size() == 1) {
            return values.get(0);
        }
        StringBuilder out = new StringBuilder();
        for (String value : values) {
            if (out.length() > 0) {
                out.append(", ");
            }
            out.append(value);
        }
        return out.toString();
    }

    private static Map<String, List<String>> readHeaders(InputStream in) throws IOException {
        Map<String, List<String>> headers = new LinkedHashMap<String, List<String>>();
        for (int count = 0; ; count++) {
            if (count > MAX_HEADER_LINES) {
                throw new IOException("too many header fields");
            }
            String line = readLine(in);
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("bad header line: " + abbreviate(line));
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            List<String> values = headers.get(name);
            if (values == null) {
                values = new ArrayList<String>(1);
                headers.put(name, values);
            }
            values.add(line.substring(colon + 1).trim());
        }
    }

    /** A line up to CRLF (or LF), without it; header bytes are ISO-8859-1. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("the connection ended inside a response head");
            }
            if (c == '\n') {
                int length = line.length();
                if (length > 0 && line.charAt(length - 1) == '\r') {
                    line.setLength(length - 1);
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new IOException("response line too long");
            }
            line.append((char) c);
        }
    }

    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] body = new byte[length];
        int read = 0;
        while (read < length) {
            int n = in.read(body, read, length - read);
            if (n < 0) {
                throw new EOFException("the connection ended inside a response body");
            }
            read += n;
        }
        return body;
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String line = readLine(in);
            int semicolon = line.indexOf(';');
            String size = (semicolon >= 0 ? line.substring(0, semicolon) : line).trim();
            int length;
            try {
                length = Integer.parseInt(size, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size: " + abbreviate(line));
            }
            if (length < 0) {
                throw new IOException("bad chunk size: " + abbreviate(line));
            }
            if (length == 0) {
                readHeaders(in);  // trailers, discarded
                return out.toByteArray();
            }
            out.write(readExactly(in, length));
            if (!readLine(in).isEmpty()) {
                throw new IOException("missing CRLF after a chunk");
            }
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "…" : text;
    }

    private Connection acquire() throws IOException {
        long now = System.nanoTime();
        while (true) {
            Connection candidate;
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("the client is closed");
                }
                candidate = idle.pollFirst();  // most recently used first
            }
            if (candidate == null) {
                break;
            }
            if (now - candidate.expiresAtNanos >= 0 || !isOpen(candidate, now)) {
                candidate.closeQuietly();
                continue;
            }
            candidate.reused = true;
            return candidate;
        }
        return open();
    }

    /** Whether a pooled connection idle for a while is still open: the server may have closed it. */
    private boolean isOpen(Connection connection, long now) {
        if (now - connection.idleSinceNanos < validateAfterNanos) {
            return true;
        }
        try {
            connection.socket.setSoTimeout(1);
            try {
                connection.in.read();  // end of stream (closed) or data nobody asked for: unusable
                return false;
            } catch (SocketTimeoutException e) {
                return true;  // nothing to read and not closed
            } finally {
                if (!connection.socket.isClosed()) {
                    connection.socket.setSoTimeout(readTimeoutMillis);
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    private Connection open() throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            socket.setSoTimeout(readTimeoutMillis);
            if (https) {
                SSLSocket tls = (SSLSocket) sslSocketFactory.createSocket(socket, host, port, true);
                SSLParameters parameters = tls.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(parameters);
                tls.startHandshake();
                socket = tls;
            }
            connectionsOpened.incrementAndGet();
            return new Connection(socket);
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            throw e;
        }
    }

    private void release(Connection connection, long keepAliveSeconds) {
        long now = System.nanoTime();
        long lifetime = maxIdleNanos;
        if (keepAliveSeconds >= 0 && honourKeepAliveTimeout) {
            lifetime = Math.min(lifetime, keepAliveSeconds * 1_000_000_000L);
        }
        if (lifetime <= 0) {
            connection.closeQuietly();
            return;
        }
        connection.idleSinceNanos = now;
        connection.expiresAtNanos = now + lifetime;
        Connection evicted = null;
        synchronized (this) {
            if (closed) {
                evicted = connection;
            } else {
                idle.addFirst(connection);
                if (idle.size() > maxIdleConnections) {
                    evicted = idle.pollLast();
                }
            }
        }
        if (evicted != null) {
            evicted.closeQuietly();
        }
    }

    /** Closes every idle connection; requests in progress finish on theirs, which then close. */
    @Override
    public void close() {
        List<Connection> toClose = new ArrayList<Connection>();
        synchronized (this) {
            closed = true;
            toClose.addAll(idle);
            idle.clear();
        }
        for (Iterator<Connection> it = toClose.iterator(); it.hasNext(); ) {
            it.next().closeQuietly();
        }
    }
}
