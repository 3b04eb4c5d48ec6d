package com.connectorreceiver.client;

import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;

/**
 * What prospects and members have in common: the club, the sender's id, name and contact
 * details, and the server-assigned {@code id}, {@code version} and timestamps.
 *
 * @param <T> the concrete type
 */
public abstract class Person<T extends Person<T>> extends JsonObject<T> {
    /** An empty record. */
    Person() {
    }

    /** @param fields the members as received */
    Person(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the server-assigned id (read-only) */
    public String getId() { return string("id"); }
    /** @return the version: 1 when created, +1 on every change (read-only) */
    public Long getVersion() { return integer("version"); }
    /** @return when it was created (read-only) */
    public Instant getCreatedAt() { return instant("createdAt"); }
    /** @return when it last changed (read-only) */
    public Instant getUpdatedAt() { return instant("updatedAt"); }

    /** @return the club it belongs to */
    public String getClubId() { return string("clubId"); }
    /**
     * @param value the club (required; one of the client's clubs)
     * @return this
     */
    public T setClubId(String value) { return set("clubId", value); }
    /** @return the sender's id, unique per client */
    public String getExternalId() { return string("externalId"); }
    /**
     * @param value the sender's id
     * @return this
     */
    public T setExternalId(String value) { return set("externalId", value); }
    /** @return the first name */
    public String getFirstName() { return string("firstName"); }
    /**
     * @param value the first name
     * @return this
     */
    public T setFirstName(String value) { return set("firstName", value); }
    /** @return the last name */
    public String getLastName() { return string("lastName"); }
    /**
     * @param value the last name
     * @return this
     */
    public T setLastName(String value) { return set("lastName", value); }
    /** @return the email address */
    public String getEmail() { return string("email"); }
    /**
     * @param value the email address ({@code null}: clear)
     * @return this
     */
    public T setEmail(String value) { return set("email", value); }

    /** @return the phone numbers, or null */
    public Phones getPhones() {
        Map<String, Object> value = object("phones");
        return value == null ? null : new Phones(value);
    }

    /**
     * @param value the phone numbers ({@code null}: clear)
     * @return this
     */
    public T setPhones(Phones value) { return set("phones", value); }

    /** @return the postal address, or null */
    public Address getAddress() {
        Map<String, Object> value = object("address");
        return value == null ? null : new Address(value);
    }

    /**
     * @param value the postal address ({@code null}: clear)
     * @return this
     */
    public T setAddress(Address value) { return set("address", value); }
    /** @return the date of birth */
    public LocalDate getBirthDate() { return date("birthDate"); }
    /**
     * @param value the date of birth
     * @return this
     */
    public T setBirthDate(LocalDate value) { return setDate("birthDate", value); }
    /** @return the gender */
    public Gender getGender() { return Enums.parse(Gender.class, string("gender")); }
    /**
     * @param value the gender
     * @return this
     */
    public T setGender(Gender value) { return set("gender", value == null ? null : value.toString()); }
    /** @return free-text notes */
    public String getNotes() { return string("notes"); }
    /**
     * @param value free-text notes
     * @return this
     */
    public T setNotes(String value) { return set("notes", value); }
}
