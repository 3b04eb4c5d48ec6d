package com.connectorreceiver.client;

/** Where a prospect stands. The wire value is the lower-case name ({@link #toString()}). */
public enum ProspectStatus {
    /** {@code "open"} */
    OPEN,
    /** {@code "converted"} */
    CONVERTED,
    /** {@code "lost"} */
    LOST;

    /** @return the value as the API spells it */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
