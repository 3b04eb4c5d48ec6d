package com.connectorreceiver.client;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Filters and paging of a list. Prospects and members take every filter; staff take
 * {@code clubId} and {@code email}; lead sources only paging. Mutable and fluent:
 * {@code new ListQuery().clubId("club-001").updatedSince(lastRun).limit(500)}.
 */
public final class ListQuery {
    private final Map<String, String> parameters = new LinkedHashMap<String, String>();

    /** No filter, the server's default page size (100). */
    public ListQuery() {
    }

    private ListQuery put(String name, String value) {
        if (value == null) {
            parameters.remove(name);
        } else {
            parameters.put(name, value);
        }
        return this;
    }

    /**
     * @param clubId only records of this club
     * @return this
     */
    public ListQuery clubId(String clubId) { return put("clubId", clubId); }
    /**
     * @param email only records with this email (case-insensitive)
     * @return this
     */
    public ListQuery email(String email) { return put("email", email); }
    /**
     * @param externalId only the record with this sender's id
     * @return this
     */
    public ListQuery externalId(String externalId) { return put("externalId", externalId); }
    /**
     * @param since only records changed at or after this instant
     * @return this
     */
    public ListQuery updatedSince(Instant since) { return put("updatedSince", since == null ? null : since.toString()); }
    /**
     * @param include also records of clubs that are switched off
     * @return this
     */
    public ListQuery includeDisabledClubs(boolean include) { return put("includeDisabledClubs", include ? "true" : null); }

    /**
     * @param limit items per page, 1 to 500
     * @return this
     * @throws IllegalArgumentException outside 1..500
     */
    public ListQuery limit(int limit) {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be 1..500, not " + limit);
        }
        return put("limit", Integer.toString(limit));
    }

    /**
     * @param cursor a page's {@link Page#getNextCursor()}; null: the first page
     * @return this
     */
    public ListQuery cursor(String cursor) { return put("cursor", cursor); }

    ListQuery copy() {
        ListQuery copy = new ListQuery();
        copy.parameters.putAll(parameters);
        return copy;
    }

    String toQueryString() {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            out.append(out.length() == 0 ? '?' : '&');
            out.append(Urls.encode(parameter.getKey())).append('=').append(Urls.encode(parameter.getValue()));
        }
        return out.toString();
    }
}
