package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Pooled connections the server closes. The main server closes connections idle for 2 s and
 * announces {@code Keep-Alive: timeout=1}; each test waits past the 2 s (they run in parallel).
 */
@Execution(ExecutionMode.CONCURRENT)
class KeepAliveIT {
    private static void waitForTheServerToClose() throws InterruptedException {
        Thread.sleep(TestServer.idleTimeoutSeconds() * 1000 + 500);
    }

    /** A client that ignores the announced timeout and, unless {@code validate}, never checks a pooled connection. */
    private static ReceiverClient staleClient(TestServer.Recorder recorder, boolean validate) {
        ReceiverClient client = TestServer.builder().listener(recorder).maxIdle(java.time.Duration.ofMinutes(5)).build();
        client.transport().honourKeepAliveTimeout = false;
        if (!validate) {
            client.transport().validateAfterNanos = Long.MAX_VALUE;
        }
        return client;
    }

    @Test
    void theAnnouncedTimeoutRetiresIdleConnectionsBeforeTheServerCloses() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = TestServer.builder().listener(recorder).build()) {
            client.leadSources().list(null);
            client.leadSources().list(null);
            assertEquals(1, client.transport().connectionsOpened(), "kept alive between calls");
            Thread.sleep(1200);  // past the announced timeout=1, within the server's 2 s
            client.leadSources().list(null);
            assertEquals(2, client.transport().connectionsOpened(), "the announced timeout retired it");
            for (Attempt attempt : recorder.snapshot()) {
                assertEquals(200, attempt.getStatus());
            }
        }
    }

    @Test
    void aConnectionTheServerClosedIsNoticedBeforeReuse() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = staleClient(recorder, true)) {
            Prospect created = client.prospects().create(TestServer.prospect(TestServer.unique("stale")));
            waitForTheServerToClose();
            // A PATCH may not be repeated, so it must not meet the stale connection at all.
            assertEquals(2L, client.prospects().update(created.getId(), new Prospect().setNotes("after idle")).getVersion());
            assertEquals(2, client.transport().connectionsOpened());
            for (Attempt attempt : recorder.snapshot()) {
                assertTrue(attempt.getFailure() == null, "no failed attempt: " + attempt);
            }
        }
    }

    @Test
    void aReadOnAStaleConnectionIsRetriedOnAFreshOne() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = staleClient(recorder, false)) {
            client.leadSources().list(null);
            waitForTheServerToClose();
            recorder.clear();
            client.leadSources().list(null);
            List<Attempt> attempts = recorder.snapshot();
            assertEquals(2, attempts.size(), attempts.toString());
            assertEquals(0, attempts.get(0).getStatus());
            assertTrue(attempts.get(0).getFailure().getMessage().contains("stale"), attempts.toString());
            assertEquals(200, attempts.get(1).getStatus());
        }
    }

    @Test
    void aCreateOnAStaleConnectionIsRetriedWithTheSameIdempotencyKey() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = staleClient(recorder, false)) {
            client.leadSources().list(null);
            waitForTheServerToClose();
            recorder.clear();
            String externalId = TestServer.unique("stale-create");
            client.prospects().create(TestServer.prospect(externalId));
            List<Attempt> attempts = recorder.snapshot();
            assertEquals(2, attempts.size(), attempts.toString());
            assertEquals(0, attempts.get(0).getStatus());
            assertEquals(201, attempts.get(1).getStatus());
            assertEquals(attempts.get(0).getIdempotencyKey(), attempts.get(1).getIdempotencyKey());
            assertEquals(1, client.prospects().list(new ListQuery().externalId(externalId)).getItems().size());
        }
    }

    @Test
    void aPatchOnAStaleConnectionIsNotRepeated() throws Exception {
        TestServer.Recorder recorder = new TestServer.Recorder();
        try (ReceiverClient client = staleClient(recorder, false)) {
            Prospect created = client.prospects().create(TestServer.prospect(TestServer.unique("stale-patch")));
            waitForTheServerToClose();
            recorder.clear();
            ReceiverConnectionException failure = assertThrows(ReceiverConnectionException.class,
                () -> client.prospects().update(created.getId(), new Prospect().setNotes("maybe")));
            assertTrue(failure.isRequestSent());
            assertEquals(1, failure.getAttempts());
            assertEquals(1, recorder.snapshot().size());
            assertNotEquals(null, failure.getCause());
            // The caller reads before deciding; here the server had closed first, so nothing changed.
            assertEquals(1L, client.prospects().get(created.getId()).getVersion());
        }
    }
}
