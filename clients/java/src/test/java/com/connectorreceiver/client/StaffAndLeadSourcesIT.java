package com.connectorreceiver.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Staff (read-only for the Connector) and lead sources against the real server. */
class StaffAndLeadSourcesIT {
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
    void staffListAndFindByEmail() throws Exception {
        String email = TestServer.unique("coach") + "@example.com";
        assertEquals(201, TestServer.putStaff(email,
            "{\"firstName\":\"Kim\",\"lastName\":\"Park\",\"role\":\"Coach\",\"clubIds\":[\"club-002\"]}"));
        Staff found = receiver.staff().findByEmail(email.toUpperCase());
        assertNotNull(found);
        assertEquals(email, found.getEmail());
        assertEquals("Kim", found.getFirstName());
        assertEquals(Arrays.asList("club-002"), found.getClubIds());
        assertEquals(Boolean.TRUE, found.getActive());
        assertEquals("Coach", found.getRole());
        assertNull(receiver.staff().findByEmail("nobody-" + email));

        Set<String> emails = new HashSet<String>();
        for (Staff staff : receiver.staff().listAll(new ListQuery().clubId("club-002").limit(1))) {
            assertNotNull(staff.getEmail());
            emails.add(staff.getEmail());
        }
        assertTrue(emails.contains(email));

        // A prospect owned by that staff member gets its id; an unknown owner is no error.
        Prospect owned = receiver.prospects().create(TestServer.prospect(TestServer.unique("owned"))
            .setStaffOwnerEmail(email));
        assertEquals(found.getId(), owned.getStaffOwnerId());
        Prospect unowned = receiver.prospects().create(TestServer.prospect(TestServer.unique("unowned"))
            .setStaffOwnerEmail("nobody-" + email));
        assertNull(unowned.getStaffOwnerId());
    }

    @Test
    void leadSourcesCreateGetUpdateDeactivateList() {
        String name = TestServer.unique("Walk-in");
        LeadSource created = receiver.leadSources().create(new LeadSource().setName(name).setExternalId("ls-" + name));
        assertEquals(name, created.getName());
        assertEquals(Boolean.TRUE, created.getActive());
        assertEquals(created, receiver.leadSources().get(created.getId()));

        ProblemException duplicate = assertThrows(ProblemException.class,
            () -> receiver.leadSources().create(new LeadSource().setName(name.toUpperCase())));
        assertEquals(409, duplicate.getStatus());
        assertEquals(created.getId(), duplicate.getExistingId());

        LeadSource renamed = receiver.leadSources().update(created.getId(), new LeadSource().setName(name + " (old)"));
        assertEquals(name + " (old)", renamed.getName());
        assertEquals("ls-" + name, renamed.getExternalId());

        Prospect referencing = receiver.prospects().create(TestServer.prospect(TestServer.unique("sourced"))
            .setLeadSourceId(created.getId()));
        receiver.leadSources().deactivate(created.getId());
        receiver.leadSources().deactivate(created.getId());  // repeating it is harmless
        assertEquals(Boolean.FALSE, receiver.leadSources().get(created.getId()).getActive());
        assertEquals(created.getId(), receiver.prospects().get(referencing.getId()).getLeadSourceId());

        boolean listed = false;
        for (LeadSource each : receiver.leadSources().listAll(new ListQuery().limit(2))) {
            listed |= each.getId().equals(created.getId());
        }
        assertTrue(listed);
        assertFalse(receiver.leadSources().list(new ListQuery().limit(1)).getItems().isEmpty());

        ProblemException missing = assertThrows(ProblemException.class,
            () -> receiver.leadSources().deactivate("00000000-0000-0000-0000-000000000000"));
        assertEquals(404, missing.getStatus());
    }
}
