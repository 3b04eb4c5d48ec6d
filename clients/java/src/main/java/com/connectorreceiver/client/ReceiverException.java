package com.connectorreceiver.client;

/**
 * Base of every exception the client throws: {@link ProblemException} when the receiver
 * answered with an error status, {@link ReceiverConnectionException} when no answer came.
 * Unchecked, so that the iterators over all pages can throw it too.
 */
public class ReceiverException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened
     * @param cause   the underlying failure, or null
     */
    public ReceiverException(String message, Throwable cause) {
        super(message, cause);
    }
}
