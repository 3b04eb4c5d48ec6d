package com.connectorreceiver.client;

import java.time.LocalDate;
import java.util.Map;

/** A member of a club. Built with the fluent setters, as a {@link Prospect}. */
public final class Member extends Person<Member> {
    /** An empty member. */
    public Member() {
    }

    /**
     * A member with the given members (copied), e.g. from {@link Json#parse(String)}.
     *
     * @param fields the members
     */
    public Member(Map<String, Object> fields) {
        super(fields);
    }

    /** @return the membership number */
    public String getMemberNumber() { return string("memberNumber"); }
    /**
     * @param value the membership number
     * @return this
     */
    public Member setMemberNumber(String value) { return set("memberNumber", value); }
    /** @return the membership type */
    public String getMembershipType() { return string("membershipType"); }
    /**
     * @param value the membership type
     * @return this
     */
    public Member setMembershipType(String value) { return set("membershipType", value); }
    /** @return the membership status */
    public MembershipStatus getMembershipStatus() { return Enums.parse(MembershipStatus.class, string("membershipStatus")); }
    /**
     * @param value the membership status
     * @return this
     */
    public Member setMembershipStatus(MembershipStatus value) { return set("membershipStatus", value == null ? null : value.toString()); }
    /** @return the join date */
    public LocalDate getJoinDate() { return date("joinDate"); }
    /**
     * @param value the join date
     * @return this
     */
    public Member setJoinDate(LocalDate value) { return setDate("joinDate", value); }
    /** @return the expiry date */
    public LocalDate getExpiryDate() { return date("expiryDate"); }
    /**
     * @param value the expiry date
     * @return this
     */
    public Member setExpiryDate(LocalDate value) { return setDate("expiryDate", value); }
    /** @return the prospect it was converted from, if any (read-only) */
    public String getProspectId() { return string("prospectId"); }
}
