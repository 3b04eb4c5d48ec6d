package com.connectorreceiver.client;

/**
 * No answer from the receiver: the connection could not be made, broke, or timed out — after
 * the retries the call allows.
 *
 * <p>{@link #isRequestSent()} says whether the request may have reached the server. When it
 * did, a non-idempotent call (a {@code PATCH}) may or may not have been applied: read the
 * record before repeating it. Saves, reads, deactivations and creates (which carry an
 * {@code Idempotency-Key}) are safe to repeat, and were already retried.
 */
public class ReceiverConnectionException extends ReceiverException {
    private static final long serialVersionUID = 1L;
    /** @serial whether the request may have reached the server */
    private final boolean requestSent;
    /** @serial the number of attempts made */
    private final int attempts;

    /**
     * @param message     what happened
     * @param cause       the I/O failure
     * @param requestSent whether the request may have reached the server
     * @param attempts    how many times it was tried
     */
    public ReceiverConnectionException(String message, Throwable cause, boolean requestSent, int attempts) {
        super(message, cause);
        this.requestSent = requestSent;
        this.attempts = attempts;
    }

    /** @return false only when no byte of the request went out (so it was certainly not applied) */
    public boolean isRequestSent() {
        return requestSent;
    }

    /** @return the number of attempts made */
    public int getAttempts() {
        return attempts;
    }
}
