package com.connectorreceiver.client;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The client's change feed ({@code GET /v1/changes}), for club systems; from
 * {@link ReceiverClient#changes()}. Following the cursor from the start reads every retained
 * event exactly once; the events of one record come in the order of its versions.
 *
 * <pre>{@code
 * String cursor = store.loadCursor();                  // null the first time
 * for (ChangePage page : receiver.changes().follow(new ChangeQuery().after(cursor).waitSeconds(30))) {
 *     for (ChangeEvent event : page.getEvents()) {
 *         apply(event);                                  // e.g. event.getProspect()
 *     }
 *     store.saveCursor(page.getNextCursor());
 *     if (stopping) break;
 * }
 * }</pre>
 *
 * A cursor older than the server's retention is {@code 410} (problem type
 * {@link #CURSOR_EXPIRED}): copy the lists again with {@code updatedSince}, then follow the
 * feed from a fresh cursor.
 */
public final class ChangeFeed {
    /** The problem type of a {@code 410} for a cursor past the retention period. */
    public static final String CURSOR_EXPIRED = "urn:connector-receiver:problem:cursor-expired";

    private final ReceiverClient client;

    ChangeFeed(ReceiverClient client) {
        this.client = client;
    }

    /**
     * One read: the events after the query's cursor, or — with a wait and nothing there yet —
     * the first ones to commit within the wait, or none when it passes.
     *
     * @param query cursor, filters, page size and wait; null reads from the start
     * @return the page and the cursor to continue from
     * @throws ProblemException {@code 400} for a cursor this feed did not return, {@code 410}
     *                          for one past the retention period
     */
    @SuppressWarnings("unchecked")
    public ChangePage read(ChangeQuery query) {
        ChangeQuery effective = query == null ? new ChangeQuery() : query;
        ReceiverClient.Call call = new ReceiverClient.Call("GET", "/v1/changes");
        call.query = effective.toQueryString();
        // A long poll is answered after up to `wait` seconds: the read timeout must outlast it.
        call.readTimeoutMillis = (int) Math.min(Integer.MAX_VALUE,
            client.readTimeoutMillis() + effective.waitSeconds() * 1000L);
        Map<String, Object> document = ReceiverClient.object(client.send(call));
        List<ChangeEvent> events = new ArrayList<ChangeEvent>();
        Object items = document.get("items");
        if (items instanceof List) {
            for (Object item : (List<Object>) items) {
                events.add(new ChangeEvent((Map<String, Object>) item));
            }
        }
        Object next = document.get("nextCursor");
        if (!(next instanceof String)) {
            throw new ReceiverException("the change feed answered without a nextCursor", null);
        }
        return new ChangePage(events, (String) next);
    }

    /**
     * Follows the feed from the query's cursor without end: each {@code next()} is one read
     * (a long poll when the query waits), starting from the previous page's cursor; a page
     * is empty when nothing was committed within the wait. Store each page's cursor after
     * processing it; stop by leaving the loop.
     *
     * @param query the starting cursor, filters, page size and wait (use a wait: without one
     *              a caught-up reader polls in a tight loop)
     * @return an iterable whose iterators never end
     */
    public Iterable<ChangePage> follow(ChangeQuery query) {
        final ChangeQuery start = query == null ? new ChangeQuery() : query.copy();
        return new Iterable<ChangePage>() {
            @Override
            public Iterator<ChangePage> iterator() {
                return new Iterator<ChangePage>() {
                    private final ChangeQuery next = start.copy();

                    @Override
                    public boolean hasNext() {
                        return true;
                    }

                    @Override
                    public ChangePage next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        ChangePage page = read(next);
                        next.after(page.getNextCursor());
                        return page;
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
