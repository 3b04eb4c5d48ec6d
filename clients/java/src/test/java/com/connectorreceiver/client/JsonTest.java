package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesEveryKindOfValue() {
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) Json.parse(
            " {\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\",\"i\":-42,\"big\":12345678901234567890,"
                + "\"d\":1.5e3,\"t\":true,\"f\":false,\"n\":null,\"a\":[1,[],{}],\"o\":{\"x\":{}}} ");
        assertEquals("a\"b\\c\né\uD83D\uDE00", object.get("s"));
        assertEquals(-42L, object.get("i"));
        assertEquals(new BigDecimal("12345678901234567890"), object.get("big"));
        assertEquals(new BigDecimal("1.5e3"), object.get("d"));
        assertEquals(Boolean.TRUE, object.get("t"));
        assertEquals(Boolean.FALSE, object.get("f"));
        assertTrue(object.containsKey("n"));
        assertNull(object.get("n"));
        assertFalse(object.containsKey("missing"));
        assertEquals(3, ((List<?>) object.get("a")).size());
        assertEquals(Arrays.asList("s", "i", "big", "d", "t", "f", "n", "a", "o"), Arrays.asList(object.keySet().toArray()));
    }

    @Test
    void rejectsWhatIsNotJson() {
        for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "01", "1.", "-", "\"\\x\"", "\"a\nb\"", "nul",
            "{\"a\":1} x", "{'a':1}", "[1 2]", "\"\\u12\""}) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            deep.append('[');
        }
        assertThrows(IllegalArgumentException.class, () -> Json.parse(deep.toString()));
    }

    @Test
    void writesAndReadsBack() {
        Map<String, Object> object = new LinkedHashMap<String, Object>();
        object.put("text", "tab\t\"quote\" \u0001 \u2028 é");
        object.put("null", null);
        object.put("list", Arrays.asList(1L, 2.5, "x", true));
        String json = Json.write(object);
        assertEquals("{\"text\":\"tab\\t\\\"quote\\\" \\u0001 \\u2028 é\",\"null\":null,\"list\":[1,2.5,\"x\",true]}", json);
        assertEquals(Json.write(Json.parse(json)), json);
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void absentAndNullStayDistinctInRecords() {
        Prospect patch = new Prospect().setEmail(null).setFirstName("Ana");
        assertEquals("{\"email\":null,\"firstName\":\"Ana\"}", patch.toJson());
        assertTrue(patch.has("email"));
        assertFalse(patch.has("lastName"));
        patch.unset("email");
        assertEquals("{\"firstName\":\"Ana\"}", patch.toJson());

        Prospect full = new Prospect().setPhones(new Phones().setMobile("+351 91 000 0000").setHome(null))
            .setAddress(new Address().setCountry("PT")).setBirthDate(LocalDate.of(1990, 2, 3))
            .setGender(Gender.FEMALE).setStatus(ProspectStatus.OPEN);
        assertEquals("{\"phones\":{\"mobile\":\"+351 91 000 0000\",\"home\":null},\"address\":{\"country\":\"PT\"},"
            + "\"birthDate\":\"1990-02-03\",\"gender\":\"female\",\"status\":\"open\"}", full.toJson());
        assertEquals("+351 91 000 0000", full.getPhones().getMobile());
        assertTrue(full.getPhones().has("home"));
        assertEquals(LocalDate.of(1990, 2, 3), full.getBirthDate());
        assertEquals(Gender.FEMALE, full.getGender());
        assertEquals(MembershipStatus.FROZEN,
            new Member().setMembershipStatus(MembershipStatus.FROZEN).getMembershipStatus());
    }

    @Test
    void retryAfterAndKeepAliveValues() {
        assertEquals(Long.valueOf(2), ReceiverClient.retryAfterSeconds("2"));
        assertEquals(Long.valueOf(0), ReceiverClient.retryAfterSeconds("Thu, 01 Jan 1970 00:00:00 GMT"));
        assertNull(ReceiverClient.retryAfterSeconds("soon"));
        assertNull(ReceiverClient.retryAfterSeconds(null));
        assertEquals(55, HttpTransport.keepAliveTimeoutSeconds("timeout=55"));
        assertEquals(5, HttpTransport.keepAliveTimeoutSeconds("max=100, timeout=5"));
        assertEquals(-1, HttpTransport.keepAliveTimeoutSeconds("max=100"));
        assertEquals(-1, HttpTransport.keepAliveTimeoutSeconds(null));
        for (int attempt = 1; attempt < 20; attempt++) {
            long delay = ReceiverClient.backoffMillis(attempt);
            assertTrue(delay >= 100 && delay <= 5000, "attempt " + attempt + ": " + delay);
        }
    }

    @Test
    void pathSegmentsArePercentEncoded() {
        assertEquals("/v1/prospects/by-external-id/a%2Fb%20c%3F%C3%A9",
            ReceiverClient.path("/v1/prospects", "by-external-id", "a/b c?é"));
        assertEquals("?email=a%2Bb%40x.com&limit=5", new ListQuery().email("a+b@x.com").limit(5).toQueryString());
        assertThrows(IllegalArgumentException.class, () -> new ListQuery().limit(501));
        assertThrows(IllegalArgumentException.class, () -> ReceiverClient.path("/v1/prospects", ""));
    }

    @Test
    void builderChecksItsArguments() {
        assertThrows(IllegalArgumentException.class, () -> ReceiverClient.create("ftp://x", "u", "p"));
        assertThrows(IllegalArgumentException.class, () -> ReceiverClient.create("http://x", null, "p"));
        assertThrows(IllegalArgumentException.class, () -> ReceiverClient.builder("http://x", "u", "p").maxRetries(-1));
        ReceiverClient closed;
        try (ReceiverClient client = ReceiverClient.builder("http://x", "u", "p").userAgentSuffix("connector/7").build()) {
            assertTrue(client.getUserAgent().matches("connector-receiver-java/1\\.0\\.0 \\(Java [^)]+\\) connector/7"),
                client.getUserAgent());
            closed = client;
        }
        assertThrows(IllegalStateException.class, () -> closed.leadSources().list(null), "closed: at once, no retries");
    }
}
