package com.connectorreceiver.client;

/**
 * The outcome of a save by external id: the record as stored, and whether it was created
 * ({@code 201}) or found — by its external id or by smart matching — and updated or left as
 * it was ({@code 200}).
 *
 * @param <T> the record type
 */
public final class Saved<T> {
    private final T record;
    private final boolean created;

    Saved(T record, boolean created) {
        this.record = record;
        this.created = created;
    }

    /** @return the record as stored */
    public T getRecord() {
        return record;
    }

    /** @return true when a new record was created, false when an existing one was saved */
    public boolean isCreated() {
        return created;
    }
}
