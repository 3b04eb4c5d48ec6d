package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the real server never does but a network or a proxy can: hang after reading a request,
 * answer in chunked coding, answer something that is not JSON, cut a body short. A raw
 * socket peer plays each; one line of script per connection.
 */
class UnusualPeersTest {
    private ServerSocket listener;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    /** Serves every request with {@code answer} (null: read it and never answer). */
    private String start(final String answer) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread thread = new Thread(() -> {
            while (!listener.isClosed()) {
                try {
                    final Socket socket = listener.accept();
                    connections.incrementAndGet();
                    Thread handler = new Thread(() -> serve(socket, answer));
                    handler.setDaemon(true);
                    handler.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    private void serve(Socket socket, String answer) {
        try (Socket s = socket; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                // The head, then the body its Content-Length announces.
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int c = in.read();
                    if (c < 0) {
                        return;
                    }
                    head.append((char) c);
                }
                java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
                for (int n = length.find() ? Integer.parseInt(length.group(1)) : 0; n > 0; n--) {
                    in.read();
                }
                requests.incrementAndGet();
                if (answer == null) {
                    Thread.sleep(10_000);
                    return;
                }
                out.write(answer.getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (answer.contains("Connection: close")) {
                    return;
                }
            }
        } catch (IOException | InterruptedException ignored) {
            // the client went away
        }
    }

    @AfterEach
    void stop() throws IOException {
        listener.close();
    }

    @Test
    void aServerThatNeverAnswersTimesOutAndOnlySafeCallsAreRepeated() throws IOException {
        String url = start(null);
        try (ReceiverClient client = ReceiverClient.builder(url, "u", "p").readTimeout(Duration.ofMillis(300))
                .maxRetries(1).build()) {
            ReceiverConnectionException read = assertThrows(ReceiverConnectionException.class,
                () -> client.prospects().get("x"));
            assertTrue(read.isRequestSent());
            assertEquals(2, read.getAttempts(), "a GET is tried again");
            assertEquals(2, requests.get());

            ReceiverConnectionException patch = assertThrows(ReceiverConnectionException.class,
                () -> client.prospects().update("x", new Prospect().setNotes("n")));
            assertTrue(patch.isRequestSent());
            assertEquals(1, patch.getAttempts(), "a PATCH that may have arrived is not");
            assertEquals(3, requests.get());
            assertTrue(patch.getMessage().contains("not repeated"), patch.getMessage());
        }
    }

    @Test
    void aChunkedAnswerIsDecoded() throws IOException {
        String body = "{\"id\":\"ls-1\",\"name\":\"Walk-in\",\"active\":true,\"version\":3}";
        String url = start("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(10) + ";ext=1\r\n" + body.substring(0, 10) + "\r\n"
            + Integer.toHexString(body.length() - 10) + "\r\n" + body.substring(10) + "\r\n0\r\nX-Trailer: t\r\n\r\n");
        try (ReceiverClient client = ReceiverClient.create(url, "u", "p")) {
            LeadSource first = client.leadSources().get("ls-1");
            assertEquals("Walk-in", first.getName());
            assertEquals(3L, first.getVersion());
            assertEquals(first, client.leadSources().get("ls-1"));
            assertEquals(1, connections.get(), "the chunked answer left the connection reusable");
        }
    }

    @Test
    void anAnswerThatIsNotJsonIsReported() throws IOException {
        String url = start("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        try (ReceiverClient client = ReceiverClient.create(url, "u", "p")) {
            ReceiverException failure = assertThrows(ReceiverException.class, () -> client.members().get("m"));
            assertTrue(failure.getMessage().contains("not JSON"), failure.getMessage());
        }
    }

    @Test
    void anErrorThatIsNotAProblemDocumentStillCarriesItsStatus() throws IOException {
        String url = start("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 11\r\n"
            + "X-Request-Id: proxy-1\r\nConnection: close\r\n\r\n<b>down</b>");
        try (ReceiverClient client = ReceiverClient.create(url, "u", "p")) {
            ProblemException failure = assertThrows(ProblemException.class, () -> client.staff().list(null));
            assertEquals(502, failure.getStatus());
            assertEquals("about:blank", failure.getType());
            assertEquals("<b>down</b>", failure.getDetail());
            assertEquals("proxy-1", failure.getRequestId());
            assertEquals(1, requests.get(), "a 502 is not retried");
        }
    }

    @Test
    void aBodyCutShortIsAFailureNotATruncatedRecord() throws IOException {
        String url = start("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"id\":");
        try (ReceiverClient client = ReceiverClient.builder(url, "u", "p").maxRetries(2).build()) {
            ReceiverConnectionException failure = assertThrows(ReceiverConnectionException.class,
                () -> client.prospects().save("e", new Prospect().setClubId("c")));
            assertEquals(3, failure.getAttempts(), "the save is idempotent: tried again");
            assertTrue(failure.getCause().getCause() instanceof java.io.EOFException, failure.toString());
        }
    }
}
