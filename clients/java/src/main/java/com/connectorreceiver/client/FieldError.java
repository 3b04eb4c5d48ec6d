package com.connectorreceiver.client;

/** One invalid field of a rejected request: its dotted path ({@code address.country}) or header name, and why. */
public final class FieldError implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** @serial the field's dotted path, or the header's name */
    private final String field;
    /** @serial what is wrong */
    private final String message;

    /**
     * @param field   the field's dotted path, or the header's name
     * @param message what is wrong, for a person
     */
    public FieldError(String field, String message) {
        this.field = field;
        this.message = message;
    }

    /** @return the field's dotted path in the request body, or the header's name */
    public String getField() {
        return field;
    }

    /** @return what is wrong, for a person */
    public String getMessage() {
        return message;
    }

    @Override
    public String toString() {
        return field + ": " + message;
    }
}
