package com.connectorreceiver.client;

import java.util.Map;

/** Lead sources ({@code /v1/lead-sources}); from {@link ReceiverClient#leadSources()}. */
public final class LeadSources {
    private static final ReceiverClient.Factory<LeadSource> FACTORY = new ReceiverClient.Factory<LeadSource>() {
        @Override
        public LeadSource make(Map<String, Object> fields) {
            return new LeadSource(fields);
        }
    };
    private final ReceiverClient client;

    LeadSources(ReceiverClient client) {
        this.client = client;
    }

    /**
     * One page of lead sources (deactivated ones included, with {@code active: false}).
     *
     * @param query paging, or null
     * @return the page
     */
    public Page<LeadSource> list(ListQuery query) {
        return client.page("/v1/lead-sources", query, FACTORY);
    }

    /**
     * Every lead source, page after page.
     *
     * @param query paging, or null
     * @return an iterable; each iterator starts from the first page
     */
    public Iterable<LeadSource> listAll(ListQuery query) {
        return client.all("/v1/lead-sources", query, FACTORY);
    }

    /**
     * Reads a lead source.
     *
     * @param id its id
     * @return the lead source
     * @throws ProblemException {@code 404} when there is none
     */
    public LeadSource get(String id) {
        return new LeadSource(ReceiverClient.object(client.send(
            new ReceiverClient.Call("GET", ReceiverClient.path("/v1/lead-sources", id)))));
    }

    /**
     * Creates a lead source (with a generated {@code Idempotency-Key}, so retries are safe).
     *
     * @param leadSource at least its {@code name}
     * @return the lead source as stored
     * @throws ProblemException {@code 409} when the name is taken ({@link ProblemException#getExistingId()})
     */
    public LeadSource create(LeadSource leadSource) {
        return new LeadSource(ReceiverClient.object(client.send(
            new ReceiverClient.Call("POST", "/v1/lead-sources").body(leadSource))));
    }

    /**
     * Changes some members (JSON merge patch); not retried once it may have reached the server.
     *
     * @param id    its id
     * @param patch the changes ({@code null} clears a member)
     * @return the lead source as stored
     */
    public LeadSource update(String id, LeadSource patch) {
        ReceiverClient.Call call = new ReceiverClient.Call("PATCH", ReceiverClient.path("/v1/lead-sources", id)).body(patch);
        call.contentType = "application/merge-patch+json";
        return new LeadSource(ReceiverClient.object(client.send(call)));
    }

    /**
     * Deactivates a lead source ({@code DELETE}: {@code active} becomes false; records keep
     * their reference). Repeating it is harmless.
     *
     * @param id its id
     * @throws ProblemException {@code 404} when there is none
     */
    public void deactivate(String id) {
        client.send(new ReceiverClient.Call("DELETE", ReceiverClient.path("/v1/lead-sources", id)));
    }
}
