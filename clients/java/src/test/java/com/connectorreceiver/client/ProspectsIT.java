package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every prospect operation, and every error class, against the real server. */
class ProspectsIT {
    private static ReceiverClient receiver;

    @BeforeAll
    static void open() {
        receiver = TestServer.client();
    }

    @AfterAll
    static void close() {
        receiver.close();
    }

    @Test
    void saveCreatesThenUpdatesAndARepeatChangesNothing() {
        String externalId = TestServer.unique("save");
        Prospect prospect = TestServer.prospect(externalId)
            .setPhones(new Phones().setMobile("+351 910 000 001"))
            .setAddress(new Address().setLine1("Rua 1").setCity("Porto").setCountry("PT"))
            .setBirthDate(LocalDate.of(1991, 4, 5)).setGender(Gender.FEMALE).setNotes("first contact");
        Saved<Prospect> created = receiver.prospects().save(externalId, prospect);
        assertTrue(created.isCreated());
        Prospect stored = created.getRecord();
        assertNotNull(stored.getId());
        assertEquals(1L, stored.getVersion());
        assertEquals(externalId, stored.getExternalId());
        assertEquals("club-001", stored.getClubId());
        assertEquals("+351 910 000 001", stored.getPhones().getMobile());
        assertEquals("Porto", stored.getAddress().getCity());
        assertEquals(LocalDate.of(1991, 4, 5), stored.getBirthDate());
        assertEquals(Gender.FEMALE, stored.getGender());
        assertEquals(ProspectStatus.OPEN, stored.getStatus());
        assertNotNull(stored.getCreatedAt());
        assertFalse(stored.getUpdatedAt().isBefore(stored.getCreatedAt()));

        Saved<Prospect> again = receiver.prospects().save(externalId, prospect);
        assertFalse(again.isCreated());
        assertEquals(stored.getId(), again.getRecord().getId());
        assertEquals(1L, again.getRecord().getVersion(), "the same save changes nothing");

        Saved<Prospect> changed = receiver.prospects().save(externalId, prospect.setNotes("second contact"));
        assertFalse(changed.isCreated());
        assertEquals(2L, changed.getRecord().getVersion());
        assertEquals("second contact", changed.getRecord().getNotes());

        ProblemException stale = assertThrows(ProblemException.class,
            () -> receiver.prospects().save(externalId, prospect.setNotes("third"), 1L));
        assertEquals(412, stale.getStatus());
        assertEquals(3L, receiver.prospects().save(externalId, prospect, 2L).getRecord().getVersion());
    }

    @Test
    void saveFindsARecordWithoutExternalIdBySmartMatching() {
        String email = TestServer.unique("match") + "@example.com";
        Prospect withoutId = new Prospect().setClubId("club-001").setFirstName("Maria").setLastName("Matched")
            .setEmail(email);
        Prospect created = receiver.prospects().create(withoutId);
        assertNull(created.getExternalId());
        String externalId = TestServer.unique("matched");
        Saved<Prospect> saved = receiver.prospects().save(externalId,
            new Prospect().setClubId("club-001").setFirstName("MARIA").setLastName("matched").setEmail(email.toUpperCase()));
        assertFalse(saved.isCreated());
        assertEquals(created.getId(), saved.getRecord().getId());
        assertEquals(externalId, saved.getRecord().getExternalId());
    }

    @Test
    void createAndItsConflict() {
        String externalId = TestServer.unique("create");
        Prospect created = receiver.prospects().create(TestServer.prospect(externalId));
        assertEquals(1L, created.getVersion());
        assertEquals(created, receiver.prospects().get(created.getId()));

        ProblemException conflict = assertThrows(ProblemException.class,
            () -> receiver.prospects().create(TestServer.prospect(externalId).setFirstName("Other")));
        assertEquals(409, conflict.getStatus());
        assertEquals(created.getId(), conflict.getExistingId());
        assertNotNull(conflict.getTitle());
        assertNotNull(conflict.getType());
        assertNotNull(conflict.getRequestId());
        assertTrue(conflict.getMessage().startsWith("409 "), conflict.getMessage());
    }

    @Test
    void anIdempotencyKeyReturnsTheFirstAnswerAgain() {
        String key = TestServer.unique("key");
        Prospect body = TestServer.prospect(TestServer.unique("idem"));
        Prospect first = receiver.prospects().create(body, key);
        Prospect replay = receiver.prospects().create(body, key);
        assertEquals(first.getId(), replay.getId(), "the same key and body: the first answer again, not a 409");
        assertEquals(1, receiver.prospects().list(new ListQuery().externalId(body.getExternalId())).getItems().size());

        ProblemException reused = assertThrows(ProblemException.class,
            () -> receiver.prospects().create(TestServer.prospect(TestServer.unique("idem")), key));
        assertEquals(422, reused.getStatus(), "the same key with another body");
    }

    @Test
    void mergePatchKeepsAbsentMembersAndClearsNullOnes() {
        Prospect created = receiver.prospects().create(TestServer.prospect(TestServer.unique("patch"))
            .setNotes("keep me").setPhones(new Phones().setMobile("+351 910 000 002").setWork("+351 220 000 000")));
        Prospect patched = receiver.prospects().update(created.getId(),
            new Prospect().setEmail(null).setFirstName("Renamed").setPhones(new Phones().setWork(null)));
        assertEquals("Renamed", patched.getFirstName());
        assertNull(patched.getEmail(), "null clears");
        assertEquals("keep me", patched.getNotes(), "absent stays");
        assertEquals(created.getLastName(), patched.getLastName());
        assertEquals("+351 910 000 002", patched.getPhones().getMobile(), "a nested absent member stays");
        assertNull(patched.getPhones().getWork(), "a nested null clears");
        assertEquals(2L, patched.getVersion());

        ProblemException stale = assertThrows(ProblemException.class,
            () -> receiver.prospects().update(created.getId(), new Prospect().setNotes("x"), 1L));
        assertEquals(412, stale.getStatus());
        assertEquals(3L, receiver.prospects().update(created.getId(), new Prospect().setNotes("x"), 2L).getVersion());
    }

    @Test
    void getIfChangedUsesTheConditionalGet() {
        Prospect created = receiver.prospects().create(TestServer.prospect(TestServer.unique("etag")));
        assertNull(receiver.prospects().getIfChanged(created.getId(), 1L), "304: unchanged");
        receiver.prospects().update(created.getId(), new Prospect().setNotes("changed"));
        Prospect changed = receiver.prospects().getIfChanged(created.getId(), 1L);
        assertNotNull(changed);
        assertEquals(2L, changed.getVersion());
        assertNull(receiver.prospects().getIfChanged(created.getId(), 2L));
    }

    @Test
    void listFiltersAndIteratesOverEveryPage() {
        String email = TestServer.unique("list") + "@example.com";
        Instant before = Instant.now().minusSeconds(5);
        Set<String> ids = new HashSet<String>();
        for (int i = 0; i < 5; i++) {
            ids.add(receiver.prospects().create(TestServer.prospect(TestServer.unique("list")).setEmail(email)).getId());
        }
        Page<Prospect> first = receiver.prospects().list(new ListQuery().email(email).limit(2));
        assertEquals(2, first.getItems().size());
        assertTrue(first.hasNext());
        Page<Prospect> second = receiver.prospects().list(new ListQuery().email(email).limit(2).cursor(first.getNextCursor()));
        assertEquals(2, second.getItems().size());

        List<String> all = new ArrayList<String>();
        for (Prospect prospect : receiver.prospects().listAll(new ListQuery().email(email).limit(2))) {
            all.add(prospect.getId());
        }
        assertEquals(5, all.size());
        assertEquals(ids, new HashSet<String>(all), "every record exactly once");
        assertEquals(all.subList(0, 2), idsOf(first));

        Prospect one = receiver.prospects().list(new ListQuery().clubId("club-001").updatedSince(before)
            .externalId(receiver.prospects().get(all.get(3)).getExternalId())).getItems().get(0);
        assertEquals(all.get(3), one.getId());
        assertTrue(receiver.prospects().list(new ListQuery().email(email).clubId("club-002")).getItems().isEmpty());

        ProblemException badCursor = assertThrows(ProblemException.class,
            () -> receiver.prospects().list(new ListQuery().cursor("not-a-cursor")));
        assertEquals(400, badCursor.getStatus());
    }

    @Test
    void aSwitchedOffClubsRecordsAreListedOnlyWhenAskedFor() throws Exception {
        String email = TestServer.unique("off") + "@example.com";
        Prospect onClub4 = receiver.prospects().create(TestServer.prospect(TestServer.unique("club4"))
            .setClubId("club-004").setEmail(email));
        assertEquals(1, receiver.prospects().list(new ListQuery().email(email)).getItems().size());
        assertEquals(200, TestServer.putClub("club-004", "{\"name\":\"Four\",\"enabled\":false}"));
        assertTrue(receiver.prospects().list(new ListQuery().email(email)).getItems().isEmpty());
        List<Prospect> listed = receiver.prospects().list(new ListQuery().email(email).includeDisabledClubs(true)).getItems();
        assertEquals(1, listed.size());
        assertEquals(onClub4.getId(), listed.get(0).getId());
        ProblemException refused = assertThrows(ProblemException.class,
            () -> receiver.prospects().update(onClub4.getId(), new Prospect().setNotes("no writes")));
        assertEquals(422, refused.getStatus());
        assertEquals("clubId", refused.getErrors().get(0).getField());
    }

    private static List<String> idsOf(Page<Prospect> page) {
        List<String> ids = new ArrayList<String>();
        for (Prospect prospect : page.getItems()) {
            ids.add(prospect.getId());
        }
        return ids;
    }

    @Test
    void convertMakesAMemberOnce() {
        Prospect prospect = receiver.prospects().create(TestServer.prospect(TestServer.unique("convert")));
        Member member = receiver.prospects().convert(prospect.getId(), TestServer.member(TestServer.unique("converted"))
            .setMemberNumber("M-1").setMembershipType("monthly").setMembershipStatus(MembershipStatus.ACTIVE)
            .setJoinDate(LocalDate.of(2026, 12, 1)));
        assertEquals(prospect.getId(), member.getProspectId());
        assertEquals(MembershipStatus.ACTIVE, member.getMembershipStatus());
        Prospect converted = receiver.prospects().get(prospect.getId());
        assertEquals(ProspectStatus.CONVERTED, converted.getStatus());
        assertEquals(member.getId(), converted.getMemberId());
        assertEquals(member, receiver.members().get(member.getId()));

        ProblemException twice = assertThrows(ProblemException.class,
            () -> receiver.prospects().convert(prospect.getId(), TestServer.member(TestServer.unique("again"))));
        assertEquals(409, twice.getStatus());
    }

    @Test
    void validationFailuresNameTheirFields() {
        ProblemException invalid = assertThrows(ProblemException.class, () -> receiver.prospects().create(
            new Prospect().setClubId("club-001").setEmail("not an email").set("birthDate", "1990-13-45")));
        assertEquals(422, invalid.getStatus());
        Set<String> fields = new HashSet<String>();
        for (FieldError error : invalid.getErrors()) {
            fields.add(error.getField());
            assertFalse(error.getMessage().isEmpty());
        }
        assertTrue(fields.contains("email"), invalid.getErrors().toString());
        assertTrue(fields.contains("birthDate"), invalid.getErrors().toString());
        assertNotNull(invalid.getDetail());
        assertNotNull(invalid.getRequestId());
        assertTrue(invalid.getMessage().contains("email"), invalid.getMessage());

        ProblemException unknownClub = assertThrows(ProblemException.class,
            () -> receiver.prospects().create(TestServer.prospect(TestServer.unique("club")).setClubId("club-999")));
        assertEquals(422, unknownClub.getStatus());
        assertEquals("clubId", unknownClub.getErrors().get(0).getField());

        ProblemException disabled = assertThrows(ProblemException.class,
            () -> receiver.prospects().save(TestServer.unique("off"), TestServer.prospect("off").setClubId("club-003")));
        assertEquals(422, disabled.getStatus());
        assertEquals("clubId", disabled.getErrors().get(0).getField());
    }

    @Test
    void missingRecordsAndOtherTenantsRecordsAreBoth404() {
        ProblemException missing = assertThrows(ProblemException.class,
            () -> receiver.prospects().get("00000000-0000-0000-0000-000000000000"));
        assertEquals(404, missing.getStatus());
        Prospect mine = receiver.prospects().create(TestServer.prospect(TestServer.unique("mine")));
        try (ReceiverClient other = ReceiverClient.create(TestServer.url(),
                TestServer.property("receiver.other.username"), TestServer.property("receiver.other.password"))) {
            ProblemException foreign = assertThrows(ProblemException.class, () -> other.prospects().get(mine.getId()));
            assertEquals(404, foreign.getStatus());
            assertEquals(missing.getType(), foreign.getType());
            assertNotEquals(missing.getRequestId(), foreign.getRequestId());
        }
    }

    @Test
    void wrongCredentialsAre401() {
        try (ReceiverClient wrong = ReceiverClient.create(TestServer.url(), TestServer.username(), "wrong-password")) {
            ProblemException denied = assertThrows(ProblemException.class, () -> wrong.leadSources().list(null));
            assertEquals(401, denied.getStatus());
            assertNotNull(denied.getTitle());
            assertNotNull(denied.getRequestId());
        }
    }
}
