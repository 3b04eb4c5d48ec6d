package com.connectorreceiver.client;

/** Parsing of the contract's string enumerations. */
final class Enums {
    private Enums() {
    }

    static <E extends Enum<E>> E parse(Class<E> type, String value) {
        if (value == null) {
            return null;
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.toString().equals(value)) {
                return constant;
            }
        }
        throw new IllegalStateException("unknown " + type.getSimpleName() + " value: " + value);
    }
}
