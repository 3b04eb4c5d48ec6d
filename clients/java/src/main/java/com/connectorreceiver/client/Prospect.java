package com.connectorreceiver.client;

import java.util.Map;

/**
 * A prospect: a person interested in joining a club. Built with the fluent setters, e.g.
 * {@code new Prospect().setClubId("club-001").setFirstName("Ana").setEmail("ana@example.com")}.
 */
public final class Prospect extends Person<Prospect> {
    /** An empty prospect. */
    public Prospect() {
    }

    /**
     * A prospect with the given members (copied), e.g. from {@link Json#parse(String)}.
     *
     * @param fields the members
     */
    public Prospect(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the lead source's id */
    public String getLeadSourceId() { return string("leadSourceId"); }
    /**
     * @param value a lead source of this client
     * @return this
     */
    public Prospect setLeadSourceId(String value) { return set("leadSourceId", value); }
    /** @return the staff owner's email */
    public String getStaffOwnerEmail() { return string("staffOwnerEmail"); }
    /**
     * @param value the staff owner's email (an unknown one is not an error)
     * @return this
     */
    public Prospect setStaffOwnerEmail(String value) { return set("staffOwnerEmail", value); }
    /** @return the staff member whose email matches {@code staffOwnerEmail}, else null (read-only) */
    public String getStaffOwnerId() { return string("staffOwnerId"); }
    /** @return the status */
    public ProspectStatus getStatus() { return Enums.parse(ProspectStatus.class, string("status")); }
    /**
     * @param value the status (default {@code open})
     * @return this
     */
    public Prospect setStatus(ProspectStatus value) { return set("status", value == null ? null : value.toString()); }
    /** @return the member it was converted to, if any (read-only) */
    public String getMemberId() { return string("memberId"); }
}
