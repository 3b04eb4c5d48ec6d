package com.connectorreceiver.client;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What to read from the change feed: after which cursor, which event types and club, how
 * many events a page, and how long to wait for the next change when caught up. Mutable and
 * fluent: {@code new ChangeQuery().after(cursor).types("prospect.created", "prospect.updated").waitSeconds(30)}.
 */
public final class ChangeQuery {
    private String after;
    private Integer limit;
    private List<String> types;
    private String clubId;
    private int waitSeconds;

    /** From the start, every type and club, the server's page size, no wait. */
    public ChangeQuery() {
    }

    /**
     * @param cursor a page's {@link ChangePage#getNextCursor()}; null: from the start
     * @return this
     */
    public ChangeQuery after(String cursor) {
        this.after = cursor;
        return this;
    }

    /**
     * @param limit events per page, 1 to 500
     * @return this
     * @throws IllegalArgumentException outside 1..500
     */
    public ChangeQuery limit(int limit) {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be 1..500, not " + limit);
        }
        this.limit = limit;
        return this;
    }

    /**
     * @param types only these event types (none: all); the cursor still moves past the others
     * @return this
     */
    public ChangeQuery types(String... types) {
        this.types = types.length == 0 ? null : new ArrayList<String>(Arrays.asList(types));
        return this;
    }

    /**
     * @param clubId only this club's events (null: all)
     * @return this
     */
    public ChangeQuery clubId(String clubId) {
        this.clubId = clubId;
        return this;
    }

    /**
     * @param seconds when nothing is there yet, how long the server waits for the next change
     *                (0 to 30); the answer comes as soon as one commits
     * @return this
     * @throws IllegalArgumentException outside 0..30
     */
    public ChangeQuery waitSeconds(int seconds) {
        if (seconds < 0 || seconds > 30) {
            throw new IllegalArgumentException("waitSeconds must be 0..30, not " + seconds);
        }
        this.waitSeconds = seconds;
        return this;
    }

    int waitSeconds() {
        return waitSeconds;
    }

    ChangeQuery copy() {
        ChangeQuery copy = new ChangeQuery();
        copy.after = after;
        copy.limit = limit;
        copy.types = types == null ? null : new ArrayList<String>(types);
        copy.clubId = clubId;
        copy.waitSeconds = waitSeconds;
        return copy;
    }

    String toQueryString() {
        StringBuilder out = new StringBuilder();
        append(out, "after", after);
        append(out, "limit", limit == null ? null : limit.toString());
        if (types != null) {
            StringBuilder joined = new StringBuilder();
            for (String type : types) {
                joined.append(joined.length() == 0 ? "" : ",").append(type);
            }
            append(out, "types", joined.toString());
        }
        append(out, "clubId", clubId);
        append(out, "wait", waitSeconds == 0 ? null : Integer.toString(waitSeconds));
        return out.toString();
    }

    private static void append(StringBuilder out, String name, String value) {
        if (value != null) {
            out.append(out.length() == 0 ? '?' : '&').append(name).append('=').append(Urls.encode(value));
        }
    }
}
