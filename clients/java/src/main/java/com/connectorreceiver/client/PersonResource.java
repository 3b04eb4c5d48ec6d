package com.connectorreceiver.client;

/**
 * The operations prospects and members share, under {@code /v1/prospects} or
 * {@code /v1/members}.
 *
 * @param <T> {@link Prospect} or {@link Member}
 */
public abstract class PersonResource<T extends Person<T>> {
    final ReceiverClient client;
    private final String collection;
    private final ReceiverClient.Factory<T> factory;

    PersonResource(ReceiverClient client, String collection, ReceiverClient.Factory<T> factory) {
        this.client = client;
        this.collection = collection;
        this.factory = factory;
    }

    T record(HttpTransport.Response response) {
        return factory.make(ReceiverClient.object(response));
    }

    /**
     * Saves the record under the sender's id ({@code PUT …/by-external-id/{externalId}}, full
     * representation): creates it, or updates the record with that external id — or the one
     * smart matching finds. Repeating the same save changes nothing; it is retried safely.
     *
     * @param externalId the sender's id
     * @param record     the full record (members left out are cleared)
     * @return the record as stored, and whether it was created
     * @throws ProblemException {@code 422} invalid data (see {@link ProblemException#getErrors()})
     */
    public Saved<T> save(String externalId, T record) {
        return save(externalId, record, null);
    }

    /**
     * As {@link #save(String, Person)}, only if the stored record is still at {@code version}
     * ({@code If-Match}); else {@code 412}.
     *
     * @param externalId      the sender's id
     * @param record          the full record
     * @param expectedVersion the version the caller last read, or null for no condition
     * @return the record as stored, and whether it was created
     * @throws ProblemException {@code 412} when the record changed meanwhile
     */
    public Saved<T> save(String externalId, T record, Long expectedVersion) {
        ReceiverClient.Call call = new ReceiverClient.Call("PUT",
            ReceiverClient.path(collection, "by-external-id", externalId)).body(record);
        if (expectedVersion != null) {
            call.header("If-Match", ReceiverClient.etag(expectedVersion));
        }
        HttpTransport.Response response = client.send(call);
        return new Saved<T>(record(response), response.status == 201);
    }

    /**
     * Creates a record ({@code POST}); a fresh {@code Idempotency-Key} makes its retries safe.
     *
     * @param record the record
     * @return the record as stored
     * @throws ProblemException {@code 409} when its {@code externalId} is taken
     *                          ({@link ProblemException#getExistingId()}), {@code 422} invalid data
     */
    public T create(T record) {
        return create(record, null);
    }

    /**
     * Creates a record with the caller's {@code Idempotency-Key}: repeating the call with the
     * same key and body (within 24 hours, even from another process) returns the first answer
     * and creates nothing more; the same key with another body is {@code 422}.
     *
     * @param record         the record
     * @param idempotencyKey 1 to 255 visible ASCII characters, or null for a generated one
     * @return the record as stored
     */
    public T create(T record, String idempotencyKey) {
        ReceiverClient.Call call = new ReceiverClient.Call("POST", ReceiverClient.path(collection)).body(record);
        call.idempotencyKey = idempotencyKey;
        return record(client.send(call));
    }

    /**
     * Changes some members ({@code PATCH}, JSON merge patch): members set on {@code patch} are
     * changed, members set to {@code null} cleared, absent members left as they are. Not
     * retried once it may have reached the server.
     *
     * @param id    the record's id
     * @param patch the changes
     * @return the record as stored
     */
    public T update(String id, T patch) {
        return update(id, patch, null);
    }

    /**
     * As {@link #update(String, Person)}, only if the record is still at {@code expectedVersion}.
     *
     * @param id              the record's id
     * @param patch           the changes
     * @param expectedVersion the version the caller last read, or null for no condition
     * @return the record as stored
     * @throws ProblemException {@code 412} when the record changed meanwhile, {@code 404} no such record
     */
    public T update(String id, T patch, Long expectedVersion) {
        ReceiverClient.Call call = new ReceiverClient.Call("PATCH", ReceiverClient.path(collection, id)).body(patch);
        call.contentType = "application/merge-patch+json";
        if (expectedVersion != null) {
            call.header("If-Match", ReceiverClient.etag(expectedVersion));
        }
        return record(client.send(call));
    }

    /**
     * Reads a record.
     *
     * @param id the record's id
     * @return the record
     * @throws ProblemException {@code 404} when there is none
     */
    public T get(String id) {
        return record(client.send(new ReceiverClient.Call("GET", ReceiverClient.path(collection, id))));
    }

    /**
     * Reads a record unless it is still at {@code knownVersion} ({@code If-None-Match}; the
     * server answers {@code 304} without the body).
     *
     * @param id           the record's id
     * @param knownVersion the version the caller has
     * @return the record, or null when it is unchanged
     * @throws ProblemException {@code 404} when there is none
     */
    public T getIfChanged(String id, long knownVersion) {
        HttpTransport.Response response = client.send(new ReceiverClient.Call("GET", ReceiverClient.path(collection, id))
            .header("If-None-Match", ReceiverClient.etag(knownVersion)));
        return response.status == 304 ? null : record(response);
    }

    /**
     * One page of the list.
     *
     * @param query filters and paging, or null for the first page of everything
     * @return the page
     * @throws ProblemException {@code 400} for a bad cursor
     */
    public Page<T> list(ListQuery query) {
        return client.page(ReceiverClient.path(collection), query, factory);
    }

    /**
     * Every record the query selects, page after page as the iteration goes (each page one
     * request; a failure surfaces from {@code hasNext()} as an unchecked exception).
     *
     * @param query filters (and page size), or null for everything
     * @return an iterable; each iterator starts from the first page
     */
    public Iterable<T> listAll(ListQuery query) {
        return client.all(ReceiverClient.path(collection), query, factory);
    }
}
