package com.connectorreceiver.client;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A staff member (read-only for the Connector; managed through the admin API). */
public final class Staff extends JsonObject<Staff> {
    /** @param fields the members as received */
    Staff(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the server-assigned id */
    public String getId() { return string("id"); }
    /** @return the email, unique per client (case-insensitive) */
    public String getEmail() { return string("email"); }
    /** @return the first name */
    public String getFirstName() { return string("firstName"); }
    /** @return the last name */
    public String getLastName() { return string("lastName"); }
    /** @return the role */
    public String getRole() { return string("role"); }
    /** @return whether active */
    public Boolean getActive() { return bool("active"); }
    /** @return the clubs the staff member works at */
    public List<String> getClubIds() { return strings("clubIds"); }
    /** @return the version */
    public Long getVersion() { return integer("version"); }
    /** @return when it was created */
    public Instant getCreatedAt() { return instant("createdAt"); }
    /** @return when it last changed */
    public Instant getUpdatedAt() { return instant("updatedAt"); }
}
