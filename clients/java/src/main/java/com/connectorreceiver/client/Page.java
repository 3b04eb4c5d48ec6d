package com.connectorreceiver.client;

import java.util.Collections;
import java.util.List;

/**
 * One page of a list: its items and the cursor of the next page.
 *
 * @param <T> the item type
 */
public final class Page<T> {
    private final List<T> items;
    private final String nextCursor;

    Page(List<T> items, String nextCursor) {
        this.items = Collections.unmodifiableList(items);
        this.nextCursor = nextCursor;
    }

    /** @return the items, in the list's stable order; unmodifiable */
    public List<T> getItems() {
        return items;
    }

    /** @return the cursor of the next page ({@link ListQuery#cursor(String)}), or null on the last page */
    public String getNextCursor() {
        return nextCursor;
    }

    /** @return whether there is a next page */
    public boolean hasNext() {
        return nextCursor != null;
    }
}
