package com.connectorreceiver.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The servers scripts/java-test.sh started, and the clients it turned up, from system
 * properties; and the admin calls the tests need for their data (staff).
 */
final class TestServer {
    private TestServer() {
    }

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set: run scripts/java-test.sh");
        }
        return value;
    }

    static String url() {
        return property("receiver.url");
    }

    static String username() {
        return property("receiver.username");
    }

    static String password() {
        return property("receiver.password");
    }

    static long idleTimeoutSeconds() {
        return Long.parseLong(property("receiver.idleTimeoutSeconds"));
    }

    /** A client of the main server with the main tenant's credentials. */
    static ReceiverClient.Builder builder() {
        return ReceiverClient.builder(url(), username(), password())
            .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(20));
    }

    static ReceiverClient client() {
        return builder().build();
    }

    /** A value unique in this run, for external ids, emails and names. */
    static String unique(String prefix) {
        return prefix + "-" + SEQUENCE.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Prospect prospect(String externalId) {
        return new Prospect().setClubId("club-001").setExternalId(externalId).setFirstName("Ana")
            .setLastName("Silva-" + externalId).setEmail(externalId.toLowerCase() + "@example.com");
    }

    static Member member(String externalId) {
        return new Member().setClubId("club-001").setExternalId(externalId).setFirstName("Rui")
            .setLastName("Costa-" + externalId).setEmail(externalId.toLowerCase() + "@example.com");
    }

    /** Records every attempt a client makes. */
    static final class Recorder implements ReceiverClient.Listener {
        final List<Attempt> attempts = Collections.synchronizedList(new ArrayList<Attempt>());
        final List<Long> times = Collections.synchronizedList(new ArrayList<Long>());

        @Override
        public void onAttempt(Attempt attempt) {
            synchronized (attempts) {
                attempts.add(attempt);
                times.add(System.nanoTime());
            }
        }

        List<Attempt> snapshot() {
            synchronized (attempts) {
                return new ArrayList<Attempt>(attempts);
            }
        }

        void clear() {
            synchronized (attempts) {
                attempts.clear();
                times.clear();
            }
        }
    }

    /** {@code PUT /admin/v1/clients/{clientId}/staff/{email}}; answers the status. */
    static int putStaff(String email, String body) throws IOException, InterruptedException {
        return adminPut("/staff/" + URLEncoder.encode(email, StandardCharsets.UTF_8), body);
    }

    /** {@code PUT /admin/v1/clients/{clientId}/clubs/{clubId}}; answers the status. */
    static int putClub(String clubId, String body) throws IOException, InterruptedException {
        return adminPut("/clubs/" + clubId, body);
    }

    private static int adminPut(String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + "/admin/v1/clients/"
                + property("receiver.clientId") + path))
            .header("Authorization", "Bearer " + property("receiver.adminToken"))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }
}
