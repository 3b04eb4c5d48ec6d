package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Retries against servers that shed: one with a single worker thread and no queue (503 with
 * Retry-After: 2), one limited to a request a second per client (429 with Retry-After: 1).
 */
class RetriesIT {
    private static ReceiverClient.Builder limited() {
        return ReceiverClient.builder(TestServer.property("receiver.limited.url"),
            TestServer.property("receiver.limited.username"), TestServer.property("receiver.limited.password"));
    }

    private static ReceiverClient.Builder shedding() {
        return ReceiverClient.builder(TestServer.property("receiver.shedding.url"),
            TestServer.property("receiver.shedding.username"), TestServer.property("receiver.shedding.password"));
    }

    /** Waits out the rate limiter's bucket (1 a second), so that the next request passes. */
    private static void refill() throws InterruptedException {
        Thread.sleep(1100);
    }

    @Test
    void a429IsRetriedAfterItsRetryAfterWithTheSameIdempotencyKey() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = limited().listener(recorder).build()) {
            refill();
            String externalId = TestServer.unique("limited");
            client.leadSources().list(new ListQuery().limit(1));  // takes the one token
            Prospect created = client.prospects().create(TestServer.prospect(externalId));  // 429, then 201
            List<Attempt> attempts = recorder.snapshot();
            Attempt refused = attempts.get(1);
            Attempt retried = attempts.get(2);
            assertEquals(429, refused.getStatus(), attempts.toString());
            assertTrue(refused.getRetryDelayMillis() >= 1000, "waits the Retry-After: " + refused);
            assertEquals(201, retried.getStatus(), attempts.toString());
            assertEquals(2, retried.getNumber());
            assertNotNull(refused.getIdempotencyKey());
            assertEquals(refused.getIdempotencyKey(), retried.getIdempotencyKey(), "the key is reused on the retry");
            long waitedMillis = (recorder.times.get(2) - recorder.times.get(1)) / 1_000_000;
            assertTrue(waitedMillis >= 950, "waited " + waitedMillis + " ms");
            refill();
            assertEquals(1, client.prospects().list(new ListQuery().externalId(externalId)).getItems().size());
            assertEquals(created.getId(), client.prospects().get(created.getId()).getId());
        }
    }

    @Test
    void withoutRetriesThe429SurfacesWithItsRetryAfter() throws Exception {
        try (ReceiverClient client = limited().maxRetries(0).build()) {
            refill();
            client.leadSources().list(null);
            ProblemException limitedOut = assertThrows(ProblemException.class, () -> client.leadSources().list(null));
            assertEquals(429, limitedOut.getStatus());
            assertNotNull(limitedOut.getRetryAfterSeconds());
            assertTrue(limitedOut.getRetryAfterSeconds() >= 1);
            assertNotNull(limitedOut.getTitle());
            assertNotNull(limitedOut.getRequestId());
        }
    }

    @Test
    void aRetryAfterLongerThanTheClientWaitsEndsTheCall() throws Exception {
        try (ReceiverClient client = limited().maxRetryWait(Duration.ofMillis(500)).build()) {
            refill();
            client.leadSources().list(null);
            long start = System.nanoTime();
            ProblemException limitedOut = assertThrows(ProblemException.class, () -> client.leadSources().list(null));
            assertEquals(429, limitedOut.getStatus());
            assertTrue(System.nanoTime() - start < 900_000_000L, "did not wait the 1 s Retry-After");
        }
    }

    @Test
    void a503FromASheddingServerIsRetriedUntilEveryCallSucceeds() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        final String email = TestServer.unique("shed") + "@example.com";
        try (ReceiverClient client = shedding().maxRetries(10).maxRetryWait(Duration.ofSeconds(3)).listener(recorder).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<String>> results = new ArrayList<Future<String>>();
                for (int i = 0; i < 16; i++) {
                    final boolean save = i % 2 == 0;
                    results.add(pool.submit(new Callable<String>() {
                        @Override
                        public String call() {
                            String externalId = TestServer.unique("shed");
                            Prospect prospect = TestServer.prospect(externalId).setEmail(email);
                            return save ? client.prospects().save(externalId, prospect).getRecord().getId()
                                : client.prospects().create(prospect).getId();
                        }
                    }));
                }
                Set<String> ids = new HashSet<String>();
                for (Future<String> result : results) {
                    ids.add(result.get(60, TimeUnit.SECONDS));
                }
                assertEquals(16, ids.size());
            } finally {
                pool.shutdownNow();
            }
            int shed = 0;
            for (Attempt attempt : recorder.snapshot()) {
                if (attempt.getStatus() == 503) {
                    shed++;
                    assertTrue(attempt.getRetryDelayMillis() >= 2000, "honours Retry-After: 2: " + attempt);
                }
            }
            assertTrue(shed > 0, "the server shed some requests: " + recorder.snapshot());
            int stored = 0;
            for (Prospect ignored : client.prospects().listAll(new ListQuery().email(email))) {
                stored++;
            }
            assertEquals(16, stored, "nothing was written twice");
        }
    }

    @Test
    void aServerThatIsNotThereIsRetriedThenReported() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = ReceiverClient.builder("http://127.0.0.1:" + port, "u", "p")
                .maxRetries(2).listener(recorder).build()) {
            ReceiverConnectionException failure = assertThrows(ReceiverConnectionException.class,
                () -> client.prospects().update("some-id", new Prospect().setNotes("x")));
            assertFalse(failure.isRequestSent(), "nothing went out: even a PATCH may be tried again");
            assertEquals(3, failure.getAttempts());
            assertEquals(3, recorder.snapshot().size());
            assertEquals(0, recorder.snapshot().get(0).getStatus());
        }
    }
}
