package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The member operations against the real server. */
class MembersIT {
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
    void saveCreateUpdateGetList() {
        String externalId = TestServer.unique("member");
        Member member = TestServer.member(externalId).setMemberNumber("M-42").setMembershipType("annual")
            .setMembershipStatus(MembershipStatus.ACTIVE).setJoinDate(LocalDate.of(2026, 1, 1))
            .setExpiryDate(LocalDate.of(2026, 12, 31));
        Saved<Member> saved = receiver.members().save(externalId, member);
        assertTrue(saved.isCreated());
        assertEquals("M-42", saved.getRecord().getMemberNumber());
        assertEquals(LocalDate.of(2026, 12, 31), saved.getRecord().getExpiryDate());
        assertNull(saved.getRecord().getProspectId());
        assertEquals(1L, receiver.members().save(externalId, member).getRecord().getVersion());

        Member frozen = receiver.members().update(saved.getRecord().getId(),
            new Member().setMembershipStatus(MembershipStatus.FROZEN).setExpiryDate(null));
        assertEquals(MembershipStatus.FROZEN, frozen.getMembershipStatus());
        assertNull(frozen.getExpiryDate());
        assertEquals("annual", frozen.getMembershipType());
        assertEquals(frozen, receiver.members().get(frozen.getId()));
        assertNull(receiver.members().getIfChanged(frozen.getId(), frozen.getVersion()));

        Member created = receiver.members().create(TestServer.member(TestServer.unique("member")).setEmail(member.getEmail()));
        ProblemException conflict = assertThrows(ProblemException.class,
            () -> receiver.members().create(TestServer.member(created.getExternalId())));
        assertEquals(409, conflict.getStatus());
        assertEquals(created.getId(), conflict.getExistingId());

        List<String> ids = new ArrayList<String>();
        for (Member each : receiver.members().listAll(new ListQuery().email(member.getEmail()).limit(1))) {
            ids.add(each.getId());
        }
        assertEquals(2, ids.size());
        assertTrue(ids.contains(created.getId()) && ids.contains(frozen.getId()));
        assertFalse(receiver.members().list(new ListQuery().externalId(externalId)).hasNext());
    }
}
