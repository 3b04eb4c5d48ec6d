package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Standard Webhooks 1.0 signatures, against the specification's published example. */
class WebhookVerifierTest {
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static final long TIMESTAMP = 1614265330;
    private static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    private static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    @Test
    void knownVector() {
        assertEquals(SIGNATURE, WebhookVerifier.sign(SECRET, ID, TIMESTAMP, BODY));
        assertDoesNotThrow(() -> new WebhookVerifier(SECRET).verify(ID, "1614265330", SIGNATURE, BODY, TIMESTAMP + 10));
    }

    @Test
    void severalSignaturesAndSecretsDuringARotation() {
        String other = "whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[32]);
        String both = "v1,AAAA " + WebhookVerifier.sign(other, ID, TIMESTAMP, BODY) + " v2,xyz";
        assertDoesNotThrow(() -> new WebhookVerifier(SECRET, other).verify(ID, "1614265330", both, BODY, TIMESTAMP));
        assertDoesNotThrow(() -> new WebhookVerifier(other).verify(ID, "1614265330", both, BODY, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> new WebhookVerifier(SECRET).verify(ID, "1614265330", both, BODY, TIMESTAMP));
    }

    @Test
    void refusesWhatIsNotAuthenticOrNotTimely() {
        WebhookVerifier verifier = new WebhookVerifier(SECRET);
        byte[] tampered = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265330", SIGNATURE, tampered, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify("msg_other", "1614265330", SIGNATURE, BODY, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265331", SIGNATURE, BODY, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265330", SIGNATURE, BODY, TIMESTAMP + 301));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265330", SIGNATURE, BODY, TIMESTAMP - 301));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "yesterday", SIGNATURE, BODY, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265330", null, BODY, TIMESTAMP));
        assertThrows(WebhookVerifier.VerificationException.class,
            () -> verifier.verify(ID, "1614265330", "v1,not base64!", BODY, TIMESTAMP));
        assertThrows(IllegalArgumentException.class, () -> new WebhookVerifier("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assertThrows(IllegalArgumentException.class, () -> new WebhookVerifier("whsec_!!!"));
    }
}
