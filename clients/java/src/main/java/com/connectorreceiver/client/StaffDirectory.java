package com.connectorreceiver.client;

import java.util.Map;

/** The client's staff ({@code /v1/staff}), read-only; from {@link ReceiverClient#staff()}. */
public final class StaffDirectory {
    private static final ReceiverClient.Factory<Staff> FACTORY = new ReceiverClient.Factory<Staff>() {
        @Override
        public Staff make(Map<String, Object> fields) {
            return new Staff(fields);
        }
    };
    private final ReceiverClient client;

    StaffDirectory(ReceiverClient client) {
        this.client = client;
    }

    /**
     * One page of staff.
     *
     * @param query {@code clubId}, {@code email} and paging, or null
     * @return the page
     */
    public Page<Staff> list(ListQuery query) {
        return client.page("/v1/staff", query, FACTORY);
    }

    /**
     * Every staff member the query selects, page after page.
     *
     * @param query filters, or null for all
     * @return an iterable; each iterator starts from the first page
     */
    public Iterable<Staff> listAll(ListQuery query) {
        return client.all("/v1/staff", query, FACTORY);
    }

    /**
     * The staff member with this email (case-insensitive), e.g. to check a prospect's owner.
     *
     * @param email the email
     * @return the staff member, or null when there is none
     */
    public Staff findByEmail(String email) {
        Page<Staff> page = list(new ListQuery().email(email).limit(1));
        return page.getItems().isEmpty() ? null : page.getItems().get(0);
    }
}
