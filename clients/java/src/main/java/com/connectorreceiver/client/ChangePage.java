package com.connectorreceiver.client;

import java.util.Collections;
import java.util.List;

/**
 * One read of the change feed: its events, in feed order, and the cursor to read on from.
 * Store {@link #getNextCursor()} once the events are processed: reading again from it is safe
 * (nothing is skipped, nothing comes twice).
 */
public final class ChangePage {
    private final List<ChangeEvent> events;
    private final String nextCursor;

    ChangePage(List<ChangeEvent> events, String nextCursor) {
        this.events = Collections.unmodifiableList(events);
        this.nextCursor = nextCursor;
    }

    /** @return the events; empty when the reader is caught up (and a long poll timed out) */
    public List<ChangeEvent> getEvents() {
        return events;
    }

    /** @return where to continue; never null */
    public String getNextCursor() {
        return nextCursor;
    }
}
