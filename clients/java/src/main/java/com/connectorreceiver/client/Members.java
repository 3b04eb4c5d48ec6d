package com.connectorreceiver.client;

import java.util.Map;

/** Members ({@code /v1/members}); from {@link ReceiverClient#members()}. */
public final class Members extends PersonResource<Member> {
    Members(ReceiverClient client) {
        super(client, "/v1/members", new ReceiverClient.Factory<Member>() {
            @Override
            public Member make(Map<String, Object> fields) {
                return new Member(fields);
            }
        });
    }
}
