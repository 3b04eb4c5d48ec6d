package com.connectorreceiver.client;

/** The state of a membership. The wire value is the lower-case name ({@link #toString()}). */
public enum MembershipStatus {
    /** {@code "active"} */
    ACTIVE,
    /** {@code "frozen"} */
    FROZEN,
    /** {@code "cancelled"} */
    CANCELLED,
    /** {@code "expired"} */
    EXPIRED;

    /** @return the value as the API spells it */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
