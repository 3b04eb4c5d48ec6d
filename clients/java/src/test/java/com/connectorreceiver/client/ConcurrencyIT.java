package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One client shared by many threads. */
class ConcurrencyIT {
    @Test
    void manyThreadsShareOneClient() throws Exception {
        final int threads = 16;
        final int perThread = 15;
        final String email = TestServer.unique("threads") + "@example.com";
        final Set<String> ids = ConcurrentHashMap.newKeySet();
        try (final ReceiverClient client = TestServer.client()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Void>> done = new ArrayList<Future<Void>>();
                for (int t = 0; t < threads; t++) {
                    done.add(pool.submit(new Callable<Void>() {
                        @Override
                        public Void call() {
                            for (int i = 0; i < perThread; i++) {
                                String externalId = TestServer.unique("thread");
                                Saved<Prospect> saved = client.prospects().save(externalId,
                                    TestServer.prospect(externalId).setEmail(email));
                                assertTrue(saved.isCreated());
                                Prospect read = client.prospects().get(saved.getRecord().getId());
                                assertEquals(externalId, read.getExternalId());
                                Prospect patched = client.prospects().update(read.getId(),
                                    new Prospect().setNotes("thread " + Thread.currentThread().getName()), 1L);
                                assertEquals(2L, patched.getVersion());
                                ids.add(read.getId());
                            }
                            return null;
                        }
                    }));
                }
                for (Future<Void> future : done) {
                    future.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(threads * perThread, ids.size());
            int listed = 0;
            for (Prospect prospect : client.prospects().listAll(new ListQuery().email(email).limit(100))) {
                assertTrue(ids.contains(prospect.getId()));
                listed++;
            }
            assertEquals(threads * perThread, listed);
            assertTrue(client.transport().connectionsOpened() <= threads * 2L,
                "connections are pooled: " + client.transport().connectionsOpened());
        }
    }
}
