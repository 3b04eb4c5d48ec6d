package com.connectorreceiver.client;

/** A person's gender. The wire value is the lower-case name ({@link #toString()}). */
public enum Gender {
    /** {@code "female"} */
    FEMALE,
    /** {@code "male"} */
    MALE,
    /** {@code "other"} */
    OTHER,
    /** {@code "unspecified"} */
    UNSPECIFIED;

    /** @return the value as the API spells it */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
