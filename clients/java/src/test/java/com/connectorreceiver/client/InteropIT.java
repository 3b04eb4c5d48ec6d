package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The HTTP clients a Java shop really uses, each against the real server with its usual
 * settings: {@code java.net.http.HttpClient} with its defaults (HTTP/2 asked for with
 * {@code Upgrade: h2c} on plain HTTP), {@code HttpURLConnection} (its keep-alive cache, with
 * POST retries off), and Apache HttpClient 4 (pooled connections, {@code Expect: 100-continue},
 * no stale check, no automatic retries: only the server's {@code Keep-Alive} timeout keeps it
 * off closed connections).
 */
@Execution(ExecutionMode.CONCURRENT)
class InteropIT {
    private static String basic() {
        return "Basic " + Base64.getEncoder().encodeToString(
            (TestServer.username() + ":" + TestServer.password()).getBytes(StandardCharsets.UTF_8));
    }

    private static String prospectJson(String externalId) {
        return TestServer.prospect(externalId).toJson();
    }

    private static void waitPastTheServersIdleTimeout() throws InterruptedException {
        Thread.sleep(TestServer.idleTimeoutSeconds() * 1000 + 500);
    }

    @Test
    void javaNetHttpClientWithItsDefaults() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        assertEquals(HttpClient.Version.HTTP_2, client.version(), "the default asks for h2c on plain HTTP");
        HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(TestServer.url() + "/v1/prospects"))
                .header("Authorization", basic()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(prospectJson(TestServer.unique("jdk")))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(HttpClient.Version.HTTP_1_1, created.version());
        String location = created.headers().firstValue("Location").orElseThrow(AssertionError::new);
        URI record = URI.create(TestServer.url()).resolve(location);

        HttpResponse<String> read = client.send(HttpRequest.newBuilder(record).header("Authorization", basic()).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, read.statusCode());
        String etag = read.headers().firstValue("ETag").orElseThrow(AssertionError::new);
        assertEquals("\"1\"", etag);
        assertEquals(created.body(), read.body());

        HttpResponse<String> notModified = client.send(HttpRequest.newBuilder(record).header("Authorization", basic())
            .header("If-None-Match", etag).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(304, notModified.statusCode());
        assertEquals(etag, notModified.headers().firstValue("ETag").orElse(null));
        assertEquals("", notModified.body());

        HttpResponse<String> h2cGet = HttpClient.newHttpClient().send(HttpRequest.newBuilder(record)
            .header("Authorization", basic()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h2cGet.statusCode(), "a GET that carries the h2c upgrade is answered in HTTP/1.1");
        assertEquals(HttpClient.Version.HTTP_1_1, h2cGet.version());
    }

    private static HttpURLConnection open(String path, String method) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL(TestServer.url() + path).openConnection();
        connection.setRequestMethod(method);
        connection.setRequestProperty("Authorization", basic());
        connection.setConnectTimeout(5000);
        connection.setReadTimeout(10000);
        return connection;
    }

    private static String drain(HttpURLConnection connection) throws IOException {
        InputStream in = connection.getResponseCode() >= 400 ? connection.getErrorStream() : connection.getInputStream();
        if (in == null) {
            return "";
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
        }
        in.close();  // read to the end and closed: the connection goes back to the keep-alive cache
        return out.toString("UTF-8");
    }

    private static int post(String path, String json) throws IOException {
        HttpURLConnection connection = open(path, "POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = connection.getOutputStream()) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        }
        int status = connection.getResponseCode();
        drain(connection);
        return status;
    }

    @Test
    void httpUrlConnectionDropsIdleConnectionsBeforeTheServerDoes() throws Exception {
        assertEquals("false", System.getProperty("sun.net.http.retryPost"),
            "run with -Dsun.net.http.retryPost=false, else a stale connection would be hidden by a silent retry");
        HttpURLConnection first = open("/v1/lead-sources?limit=1", "GET");
        assertEquals(200, first.getResponseCode());
        assertEquals("keep-alive", first.getHeaderField("Connection"));
        assertEquals("timeout=" + (TestServer.idleTimeoutSeconds() - 1), first.getHeaderField("Keep-Alive"));
        drain(first);
        assertEquals(201, post("/v1/prospects", prospectJson(TestServer.unique("huc"))));
        waitPastTheServersIdleTimeout();
        // Without the Keep-Alive timeout, the JDK would keep the connection 5 s and send this
        // POST into a connection the server closed.
        assertEquals(201, post("/v1/prospects", prospectJson(TestServer.unique("huc"))));

        HttpURLConnection created = open("/v1/lead-sources", "POST");
        created.setDoOutput(true);
        created.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = created.getOutputStream()) {
            out.write(("{\"name\":\"" + TestServer.unique("huc") + "\"}").getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(201, created.getResponseCode());
        String location = created.getHeaderField("Location");
        drain(created);
        HttpURLConnection conditional = open(location, "GET");
        conditional.setRequestProperty("If-None-Match", "\"1\"");
        assertEquals(304, conditional.getResponseCode());
        assertEquals("\"1\"", conditional.getHeaderField("ETag"));
        assertEquals("", drain(conditional));
    }

    @Test
    void apacheHttpClientPooledWithExpectContinue() throws Exception {
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
        pool.setValidateAfterInactivity(-1);  // no stale check: the Keep-Alive timeout must do it
        pool.setMaxTotal(4);
        try (CloseableHttpClient client = HttpClients.custom().setConnectionManager(pool).disableAutomaticRetries()
                .setDefaultRequestConfig(RequestConfig.custom().setExpectContinueEnabled(true)
                    .setConnectTimeout(5000).setSocketTimeout(10000).build())
                .build()) {
            for (int round = 0; round < 2; round++) {
                HttpPost post = new HttpPost(TestServer.url() + "/v1/prospects");
                post.setHeader("Authorization", basic());
                post.setEntity(new StringEntity(prospectJson(TestServer.unique("apache")), ContentType.APPLICATION_JSON));
                org.apache.http.HttpResponse response = client.execute(post);
                String body = EntityUtils.toString(response.getEntity());
                assertEquals(201, response.getStatusLine().getStatusCode(), body);
                assertNotNull(response.getFirstHeader("Keep-Alive"));
                assertEquals(1, pool.getTotalStats().getAvailable(), "the connection went back to the pool");
                Map<?, ?> record = (Map<?, ?>) Json.parse(body);

                HttpGet get = new HttpGet(TestServer.url() + "/v1/prospects/" + record.get("id"));
                get.setHeader("Authorization", basic());
                get.setHeader("If-None-Match", "W/\"1\"");
                org.apache.http.HttpResponse notModified = client.execute(get);
                assertEquals(304, notModified.getStatusLine().getStatusCode());
                assertNull(notModified.getEntity());
                assertEquals(1, pool.getTotalStats().getAvailable());
                waitPastTheServersIdleTimeout();
            }

            HttpPost refused = new HttpPost(TestServer.url() + "/v1/prospects");
            refused.setHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString("x:y".getBytes(StandardCharsets.UTF_8)));
            refused.setEntity(new StringEntity(prospectJson(TestServer.unique("apache")), ContentType.APPLICATION_JSON));
            org.apache.http.HttpResponse denied = client.execute(refused);
            assertEquals(401, denied.getStatusLine().getStatusCode());
            assertTrue(denied.getFirstHeader("WWW-Authenticate").getValue().startsWith("Basic"));
            EntityUtils.consume(denied.getEntity());
        }
    }

    @Test
    void personalDataIsNeverStoredByCaches() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(TestServer.url() + "/v1/prospects"))
                .header("Authorization", basic()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(prospectJson(TestServer.unique("nostore")))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals("no-store", created.headers().firstValue("Cache-Control").orElse(null));
        URI record = URI.create(TestServer.url()).resolve(created.headers().firstValue("Location").orElseThrow(AssertionError::new));
        for (URI uri : new URI[] {record, URI.create(TestServer.url() + "/v1/prospects?limit=1"),
            URI.create(TestServer.url() + "/v1/staff?limit=1")}) {
            HttpResponse<String> read = client.send(HttpRequest.newBuilder(uri).header("Authorization", basic())
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("no-store", read.headers().firstValue("Cache-Control").orElse(null), uri.toString());
        }
    }
}
