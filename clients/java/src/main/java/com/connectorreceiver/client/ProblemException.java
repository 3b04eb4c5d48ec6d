package com.connectorreceiver.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The receiver answered with an error status; its RFC 9457 problem document is here.
 *
 * <p>What to do, by {@link #getStatus()}: {@code 401} wrong credentials; {@code 403} the
 * client is suspended; {@code 404} no such record (or another client's); {@code 409} a
 * conflict ({@link #getExistingId()} names the record an {@code externalId} or name is already
 * used by); {@code 412} the record changed since the version given in {@code If-Match};
 * {@code 422} invalid data ({@link #getErrors()} lists the fields); {@code 429}/{@code 503}
 * the server asked to come back later ({@link #getRetryAfterSeconds()}) and the retries the
 * client allows are spent.
 */
public class ProblemException extends ReceiverException {
    private static final long serialVersionUID = 1L;
    /** @serial the HTTP status */
    private final int status;
    /** @serial the problem type URI */
    private final String type;
    /** @serial the short summary */
    private final String title;
    /** @serial the explanation of this occurrence */
    private final String detail;
    /** @serial the invalid fields */
    private final List<FieldError> errors;
    /** @serial the request's id */
    private final String requestId;
    /** @serial the existing record's id on a 409 */
    private final String existingId;
    /** @serial the Retry-After in seconds */
    private final Long retryAfterSeconds;
    /** @serial the response body */
    private final String body;

    /**
     * @param status            the HTTP status
     * @param type              the problem type URI ({@code about:blank} when none)
     * @param title             the short summary
     * @param detail            the explanation of this occurrence, or null
     * @param errors            the invalid fields (empty when none)
     * @param requestId         the request's {@code X-Request-Id}, to quote to the receiver's operators
     * @param existingId        on a {@code 409}: the existing record's id, else null
     * @param retryAfterSeconds the {@code Retry-After} of the response, or null
     * @param body              the response body as received
     */
    public ProblemException(int status, String type, String title, String detail, List<FieldError> errors,
                            String requestId, String existingId, Long retryAfterSeconds, String body) {
        super(message(status, title, detail, errors, requestId), null);
        this.status = status;
        this.type = type;
        this.title = title;
        this.detail = detail;
        this.errors = Collections.unmodifiableList(new ArrayList<FieldError>(errors));
        this.requestId = requestId;
        this.existingId = existingId;
        this.retryAfterSeconds = retryAfterSeconds;
        this.body = body;
    }

    private static String message(int status, String title, String detail, List<FieldError> errors, String requestId) {
        StringBuilder out = new StringBuilder();
        out.append(status).append(' ').append(title == null ? "" : title);
        if (detail != null) {
            out.append(": ").append(detail);
        }
        if (!errors.isEmpty()) {
            out.append(' ').append(errors);
        }
        if (requestId != null) {
            out.append(" (request ").append(requestId).append(')');
        }
        return out.toString();
    }

    static ProblemException from(HttpTransport.Response response, Long retryAfterSeconds) {
        String text = response.bodyText();
        Map<?, ?> document = null;
        try {
            Object parsed = Json.parse(text);
            if (parsed instanceof Map) {
                document = (Map<?, ?>) parsed;
            }
        } catch (IllegalArgumentException notJson) {
            document = null;
        }
        String type = "about:blank";
        String title = null;
        String detail = null;
        String existingId = null;
        String requestId = response.header("X-Request-Id");
        List<FieldError> errors = new ArrayList<FieldError>();
        if (document != null) {
            type = stringOr(document.get("type"), type);
            title = stringOr(document.get("title"), null);
            detail = stringOr(document.get("detail"), null);
            existingId = stringOr(document.get("existingId"), null);
            requestId = stringOr(document.get("requestId"), requestId);
            Object list = document.get("errors");
            if (list instanceof List) {
                for (Object item : (List<?>) list) {
                    if (item instanceof Map) {
                        Map<?, ?> error = (Map<?, ?>) item;
                        errors.add(new FieldError(stringOr(error.get("field"), ""), stringOr(error.get("message"), "")));
                    }
                }
            }
        } else if (!text.isEmpty()) {
            detail = text.length() > 200 ? text.substring(0, 200) : text;
        }
        return new ProblemException(response.status, type, title, detail, errors, requestId, existingId,
            retryAfterSeconds, text);
    }

    private static String stringOr(Object value, String fallback) {
        return value instanceof String ? (String) value : fallback;
    }

    /** @return the HTTP status */
    public int getStatus() {
        return status;
    }

    /** @return the problem type URI; {@code about:blank} means the status says it all */
    public String getType() {
        return type;
    }

    /** @return the short summary, or null */
    public String getTitle() {
        return title;
    }

    /** @return the explanation of this occurrence, or null */
    public String getDetail() {
        return detail;
    }

    /** @return the invalid fields of a {@code 422} (empty otherwise); unmodifiable */
    public List<FieldError> getErrors() {
        return errors;
    }

    /** @return the request's id ({@code X-Request-Id}), the key to the receiver's log line */
    public String getRequestId() {
        return requestId;
    }

    /** @return on a {@code 409}: the id of the record already holding the {@code externalId} or name; else null */
    public String getExistingId() {
        return existingId;
    }

    /** @return the {@code Retry-After} the server sent, in seconds, or null */
    public Long getRetryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** @return the response body as received */
    public String getBody() {
        return body;
    }
}
