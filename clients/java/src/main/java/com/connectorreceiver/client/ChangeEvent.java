package com.connectorreceiver.client;

import java.time.Instant;
import java.util.Map;

/**
 * One committed change of a prospect, member, lead source or staff record: its type
 * ({@code prospect.created}, {@code prospect.updated}, {@code prospect.converted},
 * {@code member.created}, {@code member.updated}, {@code lead_source.created},
 * {@code lead_source.updated}, {@code staff.created}, {@code staff.updated}) and the record
 * exactly as {@code GET} returned it after the change.
 */
public final class ChangeEvent extends JsonObject<ChangeEvent> {
    ChangeEvent(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the event's id ({@code evt_…}; also the {@code webhook-id} of its deliveries) */
    public String getId() { return string("id"); }
    /** @return the event type, e.g. {@code prospect.updated} */
    public String getType() { return string("type"); }
    /** @return when the change was committed */
    public Instant getOccurredAt() { return instant("occurredAt"); }
    /** @return the record's club; null for lead sources and staff */
    public String getClubId() { return string("clubId"); }

    /** @return the record after the change, as JSON members */
    public Map<String, Object> getData() {
        return object("data");
    }

    /** @return the prospect, when the type starts with {@code prospect.}; else null */
    public Prospect getProspect() {
        return is("prospect.") ? new Prospect(getData()) : null;
    }

    /** @return the member, when the type starts with {@code member.}; else null */
    public Member getMember() {
        return is("member.") ? new Member(getData()) : null;
    }

    /** @return the lead source, when the type starts with {@code lead_source.}; else null */
    public LeadSource getLeadSource() {
        return is("lead_source.") ? new LeadSource(getData()) : null;
    }

    /** @return the staff member, when the type starts with {@code staff.}; else null */
    public Staff getStaff() {
        return is("staff.") ? new Staff(getData()) : null;
    }

    private boolean is(String prefix) {
        String type = getType();
        return type != null && type.startsWith(prefix) && getData() != null;
    }
}
