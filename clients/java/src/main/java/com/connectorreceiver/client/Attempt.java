package com.connectorreceiver.client;

/**
 * One attempt of a call, as reported to a {@link ReceiverClient.Listener}: for logging,
 * metrics, or to watch the retries.
 */
public final class Attempt {
    private final String method;
    private final String target;
    private final int number;
    private final String idempotencyKey;
    private final int status;
    private final Exception failure;
    private final long retryDelayMillis;

    Attempt(String method, String target, int number, String idempotencyKey, int status, Exception failure,
            long retryDelayMillis) {
        this.method = method;
        this.target = target;
        this.number = number;
        this.idempotencyKey = idempotencyKey;
        this.status = status;
        this.failure = failure;
        this.retryDelayMillis = retryDelayMillis;
    }

    /** @return the HTTP method */
    public String getMethod() { return method; }
    /** @return the request target (path and query) */
    public String getTarget() { return target; }
    /** @return 1 for the first attempt, 2 for the first retry, … */
    public int getNumber() { return number; }
    /** @return the {@code Idempotency-Key} sent (the same on every attempt of one call), or null */
    public String getIdempotencyKey() { return idempotencyKey; }
    /** @return the response status, or 0 when the attempt failed on the network */
    public int getStatus() { return status; }
    /** @return the network failure, or null */
    public Exception getFailure() { return failure; }
    /** @return the wait before the next attempt in milliseconds, or -1 when there is none */
    public long getRetryDelayMillis() { return retryDelayMillis; }

    @Override
    public String toString() {
        return method + " " + target + " #" + number + " -> " + (failure != null ? failure.toString() : status)
            + (retryDelayMillis >= 0 ? " (retry in " + retryDelayMillis + " ms)" : "");
    }
}
