package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An {@code https} base URL: a TLS terminator in front of the real server (as nginx is in
 * production), with a certificate for {@code localhost} that scripts/java-test.sh made with
 * keytool. The client must verify both the chain and the host name.
 */
class TlsIT {
    private static SSLContext context;
    private static SSLServerSocket listener;
    private static int port;

    @BeforeAll
    static void startTerminator() throws Exception {
        char[] password = TestServer.property("receiver.tls.password").toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(TestServer.property("receiver.tls.keystore"))) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        listener = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        port = listener.getLocalPort();
        final URI upstream = URI.create(TestServer.url());
        Thread acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket downstream = listener.accept();
                    Socket server = new Socket(upstream.getHost(), upstream.getPort());
                    pump(downstream, server);
                    pump(server, downstream);
                } catch (IOException e) {
                    return;  // closed
                }
            }
        }, "tls-terminator");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Copies from one socket to the other until either end closes, then closes both. */
    private static void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // one end went away
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }, "tls-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @AfterAll
    static void stopTerminator() throws IOException {
        listener.close();
    }

    @Test
    void everyCallWorksOverTls() {
        try (ReceiverClient client = ReceiverClient.builder("https://localhost:" + port, TestServer.username(),
                TestServer.password()).sslSocketFactory(context.getSocketFactory()).build()) {
            String externalId = TestServer.unique("tls");
            Saved<Prospect> saved = client.prospects().save(externalId, TestServer.prospect(externalId));
            assertTrue(saved.isCreated());
            assertEquals(saved.getRecord(), client.prospects().get(saved.getRecord().getId()));
            assertEquals(null, client.prospects().getIfChanged(saved.getRecord().getId(), 1L));
            assertFalse(client.leadSources().list(null).getItems() == null);
            assertEquals(1, client.transport().connectionsOpened(), "one TLS connection, kept alive");
        }
    }

    @Test
    void theHostNameIsVerified() {
        // The certificate names localhost only: 127.0.0.1 is another name.
        try (ReceiverClient client = ReceiverClient.builder("https://127.0.0.1:" + port, TestServer.username(),
                TestServer.password()).sslSocketFactory(context.getSocketFactory()).maxRetries(0).build()) {
            ReceiverConnectionException failure = assertThrows(ReceiverConnectionException.class,
                () -> client.leadSources().list(null));
            assertTrue(failure.getCause().getCause() instanceof SSLHandshakeException, failure.toString());
            assertFalse(failure.isRequestSent());
        }
    }

    @Test
    void anUntrustedCertificateIsRefused() {
        try (ReceiverClient client = ReceiverClient.builder("https://localhost:" + port, TestServer.username(),
                TestServer.password()).maxRetries(0).build()) {
            ReceiverConnectionException failure = assertThrows(ReceiverConnectionException.class,
                () -> client.leadSources().list(null));
            assertTrue(failure.getCause().getCause() instanceof SSLHandshakeException, failure.toString());
        }
    }
}
