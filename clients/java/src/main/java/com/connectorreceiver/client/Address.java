package com.connectorreceiver.client;

import java.util.Map;

/** A postal address ({@code address}); {@code country} is ISO 3166-1 alpha-2. */
public final class Address extends JsonObject<Address> {
    /** An empty address. */
    public Address() {
    }

    /** @param fields the members as received */
    Address(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the first line */
    public String getLine1() { return string("line1"); }
    /**
     * @param value the first line
     * @return this
     */
    public Address setLine1(String value) { return set("line1", value); }
    /** @return the second line */
    public String getLine2() { return string("line2"); }
    /**
     * @param value the second line
     * @return this
     */
    public Address setLine2(String value) { return set("line2", value); }
    /** @return the city */
    public String getCity() { return string("city"); }
    /**
     * @param value the city
     * @return this
     */
    public Address setCity(String value) { return set("city", value); }
    /** @return the region (state, province) */
    public String getRegion() { return string("region"); }
    /**
     * @param value the region
     * @return this
     */
    public Address setRegion(String value) { return set("region", value); }
    /** @return the postal code */
    public String getPostalCode() { return string("postalCode"); }
    /**
     * @param value the postal code
     * @return this
     */
    public Address setPostalCode(String value) { return set("postalCode", value); }
    /** @return the ISO 3166-1 alpha-2 country code */
    public String getCountry() { return string("country"); }
    /**
     * @param value the ISO 3166-1 alpha-2 country code
     * @return this
     */
    public Address setCountry(String value) { return set("country", value); }
}
