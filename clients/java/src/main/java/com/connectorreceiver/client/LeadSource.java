package com.connectorreceiver.client;

import java.time.Instant;
import java.util.Map;

/** A lead source: where prospects come from. {@code name} is unique per client (case-insensitive). */
public final class LeadSource extends JsonObject<LeadSource> {
    /** An empty lead source. */
    public LeadSource() {
    }

    /**
     * A lead source with the given members (copied).
     *
     * @param fields the members
     */
    public LeadSource(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the server-assigned id (read-only) */
    public String getId() { return string("id"); }
    /** @return the version (read-only) */
    public Long getVersion() { return integer("version"); }
    /** @return when it was created (read-only) */
    public Instant getCreatedAt() { return instant("createdAt"); }
    /** @return when it last changed (read-only) */
    public Instant getUpdatedAt() { return instant("updatedAt"); }
    /** @return the name */
    public String getName() { return string("name"); }
    /**
     * @param value the name (required, unique per client)
     * @return this
     */
    public LeadSource setName(String value) { return set("name", value); }
    /** @return the sender's id */
    public String getExternalId() { return string("externalId"); }
    /**
     * @param value the sender's id
     * @return this
     */
    public LeadSource setExternalId(String value) { return set("externalId", value); }
    /** @return whether active (default true) */
    public Boolean getActive() { return bool("active"); }
    /**
     * @param value whether active
     * @return this
     */
    public LeadSource setActive(Boolean value) { return set("active", value); }
}
