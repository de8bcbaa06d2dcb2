import AttributionCore
import Testing

@Suite struct WebhookPayloadTests {
    @Test func readsTheClickFixture() throws {
        let payload = try WebhookPayload.parse(try Fixtures.body("click.json"))
        #expect(payload.actions.count == 1)
        let click = try #require(payload.actions.first)
        #expect(click.actionType == UserAction.linkClick)
        #expect(click.occurredAt == 1_764_331_200_000)
        #expect(click.wabaID == "102290129340398")
        #expect(click.phoneNumberID == "106540352242922")
        #expect(click.displayPhoneNumber == "15550783881")
        #expect(click.clickID == "ARAkLkA8rmlF8d0x")
        #expect(click.trackingToken == "tt_summer_01")
        #expect(click.clickComponent == "cta")
        #expect(click.productID == "sku_4711")
    }

    @Test func readsANumericTimestampAndAMissingComponent() throws {
        let payload = try WebhookPayload.parse(try Fixtures.body("landing-page-view.json"))
        let view = try #require(payload.actions.first)
        #expect(view.actionType == UserAction.landingPageView)
        #expect(view.occurredAt == 1_764_331_203_000)
        #expect(view.clickID == "ARAkLkA8rmlF8d0x")
        #expect(view.clickComponent == nil)
        #expect(view.productID == nil)
    }

    @Test func statusesAreOtherTrafficNotActions() throws {
        let payload = try WebhookPayload.parse(try Fixtures.body("statuses.json"))
        #expect(payload.actions.isEmpty)
        #expect(payload.rejected.isEmpty)
        #expect(payload.otherItems == 1)
    }

    @Test func theKeyIgnoresHowTheTimestampIsSpelled() throws {
        let asString = try WebhookPayload.parse(Array(body(actions: [action(click: "c1", timestamp: #""1764331200""#)]).utf8))
        let asNumber = try WebhookPayload.parse(Array(body(actions: [action(click: "c1", timestamp: "1764331200")]).utf8))
        let other = try WebhookPayload.parse(Array(body(actions: [action(click: "c2", timestamp: "1764331200")]).utf8))
        #expect(asString.actions[0].key == asNumber.actions[0].key)
        #expect(asString.actions[0].key != other.actions[0].key)
    }

    @Test func readsEveryEntryChangeAndActionOfABatch() throws {
        let text = """
            {"object":"whatsapp_business_account","entry":[
              {"id":"111","changes":[
                {"field":"messages","value":{"metadata":{"phone_number_id":"p1"},"user_actions":[\(action(click: "a", timestamp: "1764331200")),\(action(click: "b", timestamp: "1764331201"))]}},
                {"field":"messages","value":{"metadata":{"phone_number_id":"p2"},"user_actions":[\(action(click: "c", timestamp: "1764331202"))]}}]},
              {"id":222,"changes":[
                {"field":"messages","value":{"metadata":{"phone_number_id":"p3"},"user_actions":[\(action(click: "d", timestamp: "1764331203"))]}}]}]}
            """
        let payload = try WebhookPayload.parse(Array(text.utf8))
        #expect(payload.actions.map(\.clickID) == ["a", "b", "c", "d"])
        #expect(payload.actions.map(\.phoneNumberID) == ["p1", "p1", "p2", "p3"])
        #expect(payload.actions.map(\.wabaID) == ["111", "111", "111", "222"])
    }

    @Test func keepsUnknownActionTypesAndFields() throws {
        let text = body(actions: [
            #"{"action_type":"catalog_item_view","timestamp":1764331200,"catalog_item_view_data":{"click_id":"z","shelf":"top"},"extra":{"nested":[1,2.5,true,null]}}"#
        ])
        let payload = try WebhookPayload.parse(Array(text.utf8))
        let view = try #require(payload.actions.first)
        #expect(view.actionType == "catalog_item_view")
        #expect(view.clickID == "z")
        #expect(view.rawJSON.contains(#""shelf":"top""#))
        #expect(view.rawJSON.contains(#""extra":{"nested":[1,2.5,true,null]}"#))
    }

    @Test func rejectsActionsWithoutTheRequiredFields() throws {
        let text = body(actions: [
            #"{"timestamp":"1764331200"}"#, #"{"action_type":"marketing_messages_link_click"}"#,
            #"{"action_type":"marketing_messages_link_click","timestamp":"yesterday"}"#, #""just text""#,
            action(click: "ok", timestamp: "1764331200"),
        ])
        let payload = try WebhookPayload.parse(Array(text.utf8))
        #expect(payload.actions.map(\.clickID) == ["ok"])
        #expect(payload.rejected.count == 4)
        #expect(payload.rejected[1].reason.contains("timestamp"))
    }

    @Test func refusesABodyThatIsNotAJSONObject() {
        #expect(throws: WebhookPayload.ParseError.notJSON) { try WebhookPayload.parse(Array("{not json".utf8)) }
        #expect(throws: WebhookPayload.ParseError.notJSON) { try WebhookPayload.parse([UInt8]()) }
        #expect(throws: WebhookPayload.ParseError.notAnObject) { try WebhookPayload.parse(Array("[1,2]".utf8)) }
    }

    @Test func anObjectWithoutEntriesHasNoActions() throws {
        let payload = try WebhookPayload.parse(Array(#"{"object":"page"}"#.utf8))
        #expect(payload.actions.isEmpty && payload.rejected.isEmpty)
    }

    private func action(click: String, timestamp: String) -> String {
        #"{"action_type":"marketing_messages_link_click","timestamp":\#(timestamp),"marketing_messages_link_click_data":{"click_component":"body","product_id":"p","click_id":"\#(click)","tracking_token":"t-\#(click)"}}"#
    }

    private func body(actions: [String]) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"9"},"user_actions":[\#(actions.joined(separator: ","))]}}]}]}"#
    }
}
