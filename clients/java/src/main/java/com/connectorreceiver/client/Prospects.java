package com.connectorreceiver.client;

import java.util.Map;

/** Prospects ({@code /v1/prospects}); from {@link ReceiverClient#prospects()}. */
public final class Prospects extends PersonResource<Prospect> {
    Prospects(ReceiverClient client) {
        super(client, "/v1/prospects", new ReceiverClient.Factory<Prospect>() {
            @Override
            public Prospect make(Map<String, Object> fields) {
                return new Prospect(fields);
            }
        });
    }

    /**
     * Converts a prospect into a member, in one transaction: the member is created (with
     * {@code prospectId}), the prospect becomes {@code converted} with {@code memberId}.
     *
     * @param prospectId the prospect's id
     * @param member     the member to create
     * @return the member as stored
     * @throws ProblemException {@code 409} when the prospect was already converted, {@code 404} no such prospect
     */
    public Member convert(String prospectId, Member member) {
        ReceiverClient.Call call = new ReceiverClient.Call("POST",
            ReceiverClient.path("/v1/prospects", prospectId, "convert")).body(member);
        return new Member(ReceiverClient.object(client.send(call)));
    }
}
