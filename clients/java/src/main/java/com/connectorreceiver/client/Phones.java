package com.connectorreceiver.client;

import java.util.Map;

/** A person's phone numbers ({@code phones}): {@code mobile}, {@code home}, {@code work}. */
public final class Phones extends JsonObject<Phones> {
    /** No numbers. */
    public Phones() {
    }

    /** @param fields the members as received */
    Phones(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the mobile number */
    public String getMobile() { return string("mobile"); }
    /**
     * @param value the mobile number ({@code null}: clear)
     * @return this
     */
    public Phones setMobile(String value) { return set("mobile", value); }
    /** @return the home number */
    public String getHome() { return string("home"); }
    /**
     * @param value the home number ({@code null}: clear)
     * @return this
     */
    public Phones setHome(String value) { return set("home", value); }
    /** @return the work number */
    public String getWork() { return string("work"); }
    /**
     * @param value the work number ({@code null}: clear)
     * @return this
     */
    public Phones setWork(String value) { return set("work", value); }
}
