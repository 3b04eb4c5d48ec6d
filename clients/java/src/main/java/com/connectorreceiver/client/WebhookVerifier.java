package com.connectorreceiver.client;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies the signature of a webhook delivery, as Standard Webhooks 1.0 specifies: the
 * {@code webhook-signature} field holds one or more space-separated {@code v1,<base64>}
 * signatures, each an HMAC-SHA256 over {@code <webhook-id>.<webhook-timestamp>.<body>} keyed
 * with the base64-decoded part of the endpoint's {@code whsec_} secret. During a secret
 * rotation, give both secrets: a delivery signed by either is accepted.
 *
 * <pre>{@code
 * WebhookVerifier verifier = new WebhookVerifier("whsec_...");
 * verifier.verify(request.getHeader("webhook-id"), request.getHeader("webhook-timestamp"),
 *     request.getHeader("webhook-signature"), rawBodyBytes);   // throws when not authentic
 * }</pre>
 *
 * <p>Verify the raw body bytes as received, before parsing them. Thread-safe.
 */
public final class WebhookVerifier {
    /** How far a delivery's timestamp may be from now (replay protection), in seconds. */
    public static final long DEFAULT_TOLERANCE_SECONDS = 5 * 60;

    /** A delivery that is not authentic, or too old or too new. */
    public static final class VerificationException extends Exception {
        private static final long serialVersionUID = 1L;

        /** @param message why the delivery was refused */
        public VerificationException(String message) {
            super(message);
        }
    }

    private final List<byte[]> keys;
    private final long toleranceSeconds;

    /**
     * @param secrets the endpoint's secrets ({@code whsec_} followed by base64); one, or two
     *                during a rotation
     * @throws IllegalArgumentException when a secret is not in that form
     */
    public WebhookVerifier(String... secrets) {
        this(DEFAULT_TOLERANCE_SECONDS, secrets);
    }

    /**
     * @param toleranceSeconds how far the timestamp may be from the local clock
     * @param secrets          the endpoint's secrets
     * @throws IllegalArgumentException when a secret is not in the {@code whsec_} form
     */
    public WebhookVerifier(long toleranceSeconds, String... secrets) {
        if (secrets.length == 0) {
            throw new IllegalArgumentException("at least one secret is required");
        }
        List<byte[]> decoded = new ArrayList<byte[]>();
        for (String secret : secrets) {
            if (secret == null || !secret.startsWith("whsec_")) {
                throw new IllegalArgumentException("a webhook secret starts with whsec_");
            }
            try {
                decoded.add(Base64.getDecoder().decode(secret.substring("whsec_".length())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the webhook secret is not base64 after whsec_", e);
            }
        }
        this.keys = Collections.unmodifiableList(decoded);
        this.toleranceSeconds = toleranceSeconds;
    }

    /**
     * Checks a delivery against the local clock.
     *
     * @param webhookId        the {@code webhook-id} field
     * @param webhookTimestamp the {@code webhook-timestamp} field (Unix seconds)
     * @param webhookSignature the {@code webhook-signature} field
     * @param body             the raw body bytes
     * @throws VerificationException when no signature matches, a field is missing, or the
     *                               timestamp is outside the tolerance
     */
    public void verify(String webhookId, String webhookTimestamp, String webhookSignature, byte[] body)
        throws VerificationException {
        verify(webhookId, webhookTimestamp, webhookSignature, body, System.currentTimeMillis() / 1000);
    }

    /**
     * Checks a delivery as of {@code nowSeconds}.
     *
     * @param webhookId        the {@code webhook-id} field
     * @param webhookTimestamp the {@code webhook-timestamp} field (Unix seconds)
     * @param webhookSignature the {@code webhook-signature} field
     * @param body             the raw body bytes
     * @param nowSeconds       the current Unix time
     * @throws VerificationException when the delivery is not authentic or not timely
     */
    public void verify(String webhookId, String webhookTimestamp, String webhookSignature, byte[] body,
                       long nowSeconds) throws VerificationException {
        if (webhookId == null || webhookTimestamp == null || webhookSignature == null || body == null) {
            throw new VerificationException("missing webhook-id, webhook-timestamp, webhook-signature or body");
        }
        long timestamp;
        try {
            timestamp = Long.parseLong(webhookTimestamp.trim());
        } catch (NumberFormatException e) {
            throw new VerificationException("webhook-timestamp is not Unix seconds");
        }
        if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
            throw new VerificationException("webhook-timestamp is outside the tolerance of " + toleranceSeconds + " s");
        }
        for (byte[] key : keys) {
            byte[] expected = signature(key, webhookId, webhookTimestamp.trim(), body);
            for (String candidate : webhookSignature.trim().split(" +")) {
                if (!candidate.startsWith("v1,")) {
                    continue;  // another scheme
                }
                byte[] given;
                try {
                    given = Base64.getDecoder().decode(candidate.substring(3));
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (MessageDigest.isEqual(expected, given)) {
                    return;
                }
            }
        }
        throw new VerificationException("no webhook-signature matches");
    }

    /**
     * The {@code v1,<base64>} signature of a delivery (what the receiver sends), e.g. for tests.
     *
     * @param secret    the {@code whsec_} secret
     * @param webhookId the event id
     * @param timestamp Unix seconds
     * @param body      the body bytes
     * @return the signature
     */
    public static String sign(String secret, String webhookId, long timestamp, byte[] body) {
        byte[] key = new WebhookVerifier(secret).keys.get(0);
        return "v1," + Base64.getEncoder().encodeToString(signature(key, webhookId, Long.toString(timestamp), body));
    }

    private static byte[] signature(byte[] key, String webhookId, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((webhookId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException("unusable webhook secret", e);
        }
    }
}
