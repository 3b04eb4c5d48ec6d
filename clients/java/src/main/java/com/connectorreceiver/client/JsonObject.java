package com.connectorreceiver.client;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON object with typed accessors: the base of every record the receiver exchanges.
 *
 * <p>The members are kept as they are on the wire, so that an absent member and a member set
 * to {@code null} stay distinct — what a JSON merge patch (RFC 7396) needs: in an update,
 * {@code setEmail(null)} clears the email, while never calling {@code setEmail} leaves it as
 * it is. {@link #unset(String)} makes a member absent again. Members this library does not
 * know are kept, readable with {@link #get(String)} and writable with {@link #set(String, Object)}.
 *
 * <p>Instances are not thread-safe; the client never shares them.
 *
 * @param <T> the concrete type, returned by the fluent setters
 */
public abstract class JsonObject<T extends JsonObject<T>> {
    private final LinkedHashMap<String, Object> fields;

    /** An object with no members. */
    protected JsonObject() {
        this.fields = new LinkedHashMap<String, Object>();
    }

    /**
     * An object with the given members (copied).
     *
     * @param fields the members, as {@link Json#parse(String)} returns them
     */
    protected JsonObject(Map<String, Object> fields) {
        this.fields = new LinkedHashMap<String, Object>(fields);
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /**
     * The members as they will be sent, in order; unmodifiable.
     *
     * @return the members (a {@code null} value is an explicit JSON {@code null})
     */
    public Map<String, Object> fields() {
        return Collections.unmodifiableMap(fields);
    }

    /**
     * Whether the member is present (possibly with the value {@code null}).
     *
     * @param name the member's name
     * @return true when present
     */
    public boolean has(String name) {
        return fields.containsKey(name);
    }

    /**
     * A member's raw value.
     *
     * @param name the member's name
     * @return the value as {@link Json} represents it; {@code null} when absent or null
     */
    public Object get(String name) {
        return fields.get(name);
    }

    /**
     * Sets a member; {@code null} sends an explicit JSON {@code null} (in an update: clear it).
     *
     * @param name  the member's name
     * @param value a value {@link Json#write(Object)} accepts
     * @return this object
     */
    public T set(String name, Object value) {
        if (value instanceof JsonObject) {
            value = new LinkedHashMap<String, Object>(((JsonObject<?>) value).fields);
        }
        fields.put(name, value);
        return self();
    }

    /**
     * Makes a member absent (in an update: leave it as it is).
     *
     * @param name the member's name
     * @return this object
     */
    public T unset(String name) {
        fields.remove(name);
        return self();
    }

    /**
     * The object as JSON text.
     *
     * @return compact JSON
     */
    public String toJson() {
        return Json.write(fields);
    }

    /** @return the JSON text */
    @Override
    public String toString() {
        return getClass().getSimpleName() + toJson();
    }

    @Override
    public boolean equals(Object other) {
        return other != null && other.getClass() == getClass() && ((JsonObject<?>) other).fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    /**
     * A string member.
     *
     * @param name the member's name
     * @return its value, or null when absent or null
     */
    protected String string(String name) {
        Object value = fields.get(name);
        return value == null ? null : value.toString();
    }

    /**
     * An integer member.
     *
     * @param name the member's name
     * @return its value, or null when absent or null
     */
    protected Long integer(String name) {
        Object value = fields.get(name);
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal) {
            return ((BigDecimal) value).longValueExact();
        }
        return ((Number) value).longValue();
    }

    /**
     * A boolean member.
     *
     * @param name the member's name
     * @return its value, or null when absent or null
     */
    protected Boolean bool(String name) {
        return (Boolean) fields.get(name);
    }

    /**
     * An RFC 3339 timestamp member.
     *
     * @param name the member's name
     * @return its value, or null when absent or null
     */
    protected Instant instant(String name) {
        String value = string(name);
        return value == null ? null : Instant.parse(value);
    }

    /**
     * A {@code YYYY-MM-DD} date member.
     *
     * @param name the member's name
     * @return its value, or null when absent or null
     */
    protected LocalDate date(String name) {
        String value = string(name);
        return value == null ? null : LocalDate.parse(value);
    }

    /**
     * Sets a date member ({@code null}: explicit null).
     *
     * @param name  the member's name
     * @param value the date
     * @return this object
     */
    protected T setDate(String name, LocalDate value) {
        return set(name, value == null ? null : value.toString());
    }

    /**
     * An array-of-strings member.
     *
     * @param name the member's name
     * @return an unmodifiable list, or null when absent or null
     */
    protected List<String> strings(String name) {
        Object value = fields.get(name);
        if (value == null) {
            return null;
        }
        List<String> out = new ArrayList<String>();
        for (Object item : (List<?>) value) {
            out.add(item == null ? null : item.toString());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A nested object member.
     *
     * @param name the member's name
     * @return its members, or null when absent or null
     */
    @SuppressWarnings("unchecked")
    protected Map<String, Object> object(String name) {
        Object value = fields.get(name);
        return value instanceof Map ? (Map<String, Object>) value : null;
    }
}
