package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The change feed of a tenant of its own ({@code java-feed}), written by one client and read
 * by another, as a club system would. The tests run one after the other: each reads the feed
 * to its end first, then writes and reads what it wrote.
 */
class ChangeFeedIT {
    private static ReceiverClient connector;
    private static ReceiverClient reader;

    @BeforeAll
    static void open() throws Exception {
        connector = ReceiverClient.create(TestServer.url(), TestServer.property("receiver.feed.username"),
            TestServer.property("receiver.feed.password"));
        // The reading side as a club system would run it: its own client, a short read timeout.
        reader = ReceiverClient.builder(TestServer.url(), TestServer.property("receiver.feed.username"),
            TestServer.property("receiver.feed.password")).readTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void close() {
        connector.close();
        reader.close();
    }

    /**
     * Reads to the end; answers the cursor there. A read hands out only events below the oldest
     * transaction still running on the cluster (other tests write beside this one), so the end
     * must be seen twice, a moment apart.
     */
    private static String caughtUp() throws InterruptedException {
        String cursor = null;
        boolean emptyOnce = false;
        for (int i = 0; i < 200; i++) {
            ChangePage page = reader.changes().read(new ChangeQuery().after(cursor).limit(500));
            cursor = page.getNextCursor();
            if (!page.getEvents().isEmpty()) {
                emptyOnce = false;
                continue;
            }
            if (emptyOnce) {
                return cursor;
            }
            emptyOnce = true;
            Thread.sleep(300);
        }
        throw new AssertionError("the feed did not end");
    }

    /** The events a query reads from its cursor on, following the cursor until there are {@code count}. */
    private static List<ChangeEvent> collect(ChangeQuery query, int count) {
        List<ChangeEvent> events = new ArrayList<ChangeEvent>();
        long deadline = System.nanoTime() + 15_000_000_000L;
        for (ChangePage page : reader.changes().follow(query.waitSeconds(2))) {
            events.addAll(page.getEvents());
            if (events.size() >= count || System.nanoTime() > deadline) {
                return events;
            }
        }
        throw new AssertionError("unreachable");
    }

    private static List<String> types(List<ChangeEvent> events) {
        List<String> types = new ArrayList<String>();
        for (ChangeEvent event : events) {
            types.add(event.getType());
        }
        return types;
    }

    @Test
    void everyChangeComesOnceInOrderWithTheRecordAsStored() throws Exception {
        String start = caughtUp();
        String externalId = TestServer.unique("feed");
        Prospect created = connector.prospects().save(externalId, TestServer.prospect(externalId)).getRecord();
        connector.prospects().save(externalId, TestServer.prospect(externalId));  // changes nothing: no event
        Prospect updated = connector.prospects().update(created.getId(), new Prospect().setNotes("called back"));
        Member member = connector.prospects().convert(created.getId(), TestServer.member(TestServer.unique("feed-member")));
        LeadSource source = connector.leadSources().create(new LeadSource().setName(TestServer.unique("Feed source")));

        List<ChangeEvent> events = collect(new ChangeQuery().after(start), 5);
        List<String> types = types(events);
        assertEquals(5, events.size(), types.toString());
        assertEquals(Arrays.asList("prospect.created", "prospect.updated"), types.subList(0, 2));
        assertEquals(new HashSet<String>(Arrays.asList("member.created", "prospect.converted")),
            new HashSet<String>(types.subList(2, 4)), "the conversion's two events, one transaction");
        assertEquals("lead_source.created", types.get(4));
        ChangeEvent first = events.get(0);
        assertTrue(first.getId().startsWith("evt_"), first.getId());
        assertNotNull(first.getOccurredAt());
        assertEquals("club-001", first.getClubId());
        assertEquals(created, first.getProspect());
        assertNull(first.getMember());
        assertEquals(updated, events.get(1).getProspect());
        for (ChangeEvent conversion : events.subList(2, 4)) {
            if (conversion.getType().equals("member.created")) {
                assertEquals(member.getId(), conversion.getMember().getId());
            } else {
                assertEquals(member.getId(), conversion.getProspect().getMemberId());
            }
        }
        ChangeEvent last = events.get(4);
        assertEquals(source, last.getLeadSource());
        assertNull(last.getClubId(), "lead sources belong to no club");

        assertEquals(types, types(collect(new ChangeQuery().after(start), 5)),
            "reading again from a stored cursor is safe: the same events, once each");
        assertEquals(Arrays.asList("prospect.updated", "prospect.converted"),
            types(collect(new ChangeQuery().after(start).types("prospect.updated", "prospect.converted"), 2)));
        assertEquals(types.subList(0, 2), types(reader.changes().read(new ChangeQuery().after(start).limit(2)).getEvents()));
        assertTrue(reader.changes().read(new ChangeQuery().after(start).clubId("club-002")).getEvents().isEmpty());
    }

    @Test
    void followLongPollsAndHandsBackTheCursor() throws Exception {
        String start = caughtUp();
        Iterator<ChangePage> pages = reader.changes().follow(new ChangeQuery().after(start).waitSeconds(20)).iterator();
        final String externalId = TestServer.unique("poll");
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            connector.prospects().save(externalId, TestServer.prospect(externalId));
        });
        long began = System.nanoTime();
        ChangePage page = pages.next();  // a long poll: answered when the save commits
        while (page.getEvents().isEmpty() && System.nanoTime() - began < 10_000_000_000L) {
            page = pages.next();  // (held back a moment by a transaction of another test)
        }
        long waitedMillis = (System.nanoTime() - began) / 1_000_000;
        writer.get(10, TimeUnit.SECONDS);
        assertEquals(1, page.getEvents().size());
        assertEquals(externalId, page.getEvents().get(0).getProspect().getExternalId());
        assertTrue(waitedMillis >= 500 && waitedMillis < 10_000, "answered when the save committed: " + waitedMillis + " ms");

        ChangePage quiet = reader.changes().read(new ChangeQuery().after(page.getNextCursor()).waitSeconds(1));
        assertTrue(quiet.getEvents().isEmpty());

        // A wait past the client's read timeout (5 s) is not cut short by it.
        long quietStart = System.nanoTime();
        assertTrue(reader.changes().read(new ChangeQuery().after(quiet.getNextCursor()).waitSeconds(6)).getEvents().isEmpty());
        assertTrue(System.nanoTime() - quietStart >= 5_500_000_000L);
    }

    @Test
    void badFeedQueries() {
        ProblemException badCursor = assertThrows(ProblemException.class,
            () -> reader.changes().read(new ChangeQuery().after("not-a-cursor")));
        assertEquals(400, badCursor.getStatus());
        ProblemException badType = assertThrows(ProblemException.class,
            () -> reader.changes().read(new ChangeQuery().types("prospect.deleted")));
        assertEquals(400, badType.getStatus());
        assertThrows(IllegalArgumentException.class, () -> new ChangeQuery().waitSeconds(31));
        assertEquals("?after=a%2Bb&limit=5&types=prospect.created%2Cmember.updated&clubId=c&wait=3",
            new ChangeQuery().after("a+b").limit(5).types("prospect.created", "member.updated").clubId("c").waitSeconds(3)
                .toQueryString());
    }
}
