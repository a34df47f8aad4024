package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.aigate.config.ConfigCheck;
import io.aigate.gateway.ValidateBodyFeatures.Feature;
import io.aigate.pipeline.JsonBody;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ValidateBodyFeaturesTest {

    static Feature used(String json, String operation, Set<Feature> allowed) {
        JsonBody.Parsed parsed = JsonBody.parse(Buffer.buffer(json));
        return ValidateBodyFeatures.firstUsed(parsed.object(), operation, allowed);
    }

    /** Each body, on a route that grants nothing, names the feature it uses; granted, it passes. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "chat/completions|DATA_SOURCES|{'data_sources':[{'type':'azure_search','parameters':{'endpoint':'https://x'}}]}",
                "chat/completions|DATA_SOURCES|{'Data_Sources':[]}",
                "chat/completions|DATA_SOURCES|{'dataSources':[]}",
                "chat/completions|DATA_SOURCES|{'data\\u005fsources':[]}",
                "chat/completions|DATA_SOURCES|{'DATA-SOURCES':{}}",
                "chat/completions|DATA_SOURCES|{'enhancements':{'ocr':{'enabled':true}}}",
                "chat/completions|DATA_SOURCES|{'extra_body':{'data_sources':[]}}",
                "responses|BACKGROUND|{'background':true}",
                "responses|BACKGROUND|{'background':'true'}",
                "responses|BACKGROUND|{'Background':1}",
                "chat/completions|STORE|{'store':true}",
                "responses|STORE|{'store':'yes'}",
                "responses|PREVIOUS_RESPONSE_ID|{'previous_response_id':'resp_1'}",
                "responses|PREVIOUS_RESPONSE_ID|{'previousResponseId':'resp_1'}",
                "responses|CONVERSATION|{'conversation':'conv_1'}",
                "responses|CONVERSATION|{'conversation':{'id':'conv_1'}}",
                "responses|PROMPT|{'prompt':{'id':'pmpt_1'}}",
                "responses|PROMPT|{'prompt':'pmpt_1'}",
                "responses|ITEM_REFERENCE|{'input':[{'type':'item_reference','id':'msg_1'}]}",
                "responses|FILE_IDS|{'input':[{'role':'user','content':[{'type':'input_file','file_id':'file-1'}]}]}",
                "responses|FILE_IDS|{'input':[{'role':'user','content':[{'type':'input_image','FILE_ID':'file-1'}]}]}",
                "chat/completions|FILE_IDS|{'messages':[{'role':'user','content':[{'type':'file','file':{'file_id':'f'}}]}]}",
                "chat/completions|FILE_IDS|{'messages':[{'role':'user','attachments':[{'file_id':'f'}]}]}",
                "chat/completions|FILE_IDS|{'tool_resources':{'code_interpreter':{'file_ids':['f']}}}",
                "batches|FILE_IDS|{'input_file_id':'file-1','endpoint':'/chat/completions'}",
                "responses|FILE_SEARCH|{'tools':[{'type':'file_search','vector_store_ids':['vs_1']}]}",
                "responses|FILE_SEARCH|{'tools':[{'type':'File_Search'}]}",
                "responses|CODE_INTERPRETER|{'tools':[{'type':'code_interpreter','container':{'type':'auto'}}]}",
                "responses|MCP|{'tools':[{'type':'mcp','server_label':'x','server_url':'https://evil.example'}]}",
                "responses|MCP|{'input':[{'server_url':'https://evil.example'}]}",
                "responses|WEB_SEARCH|{'tools':[{'type':'web_search_preview'}]}",
                "responses|WEB_SEARCH|{'tools':[{'type':'web_search_2025_08_26'}]}",
                "chat/completions|WEB_SEARCH|{'web_search_options':{}}",
                "responses|IMAGE_GENERATION|{'tools':[{'type':'image_generation'}]}",
                "responses|OTHER_TOOLS|{'tools':[{'type':'computer_use_preview'}]}",
                "responses|OTHER_TOOLS|{'tools':[{'type':'a_tool_invented_tomorrow'}]}",
                "chat/completions|OTHER_TOOLS|{'tools':[{'function':{'name':'f'}}]}",
                "chat/completions|OTHER_TOOLS|{'tools':[{'type':['function']}]}",
                "chat/completions|OTHER_TOOLS|{'tools':{'type':'function'}}",
                "chat/completions|OTHER_TOOLS|{'tools':['file_search']}",
            })
    void aFeatureIsRefusedUntilTheRouteGrantsIt(String operation, Feature expected, String body) {
        String json = body.replace('\'', '"');
        assertEquals(expected, used(json, operation, EnumSet.noneOf(Feature.class)), json);
        assertNull(used(json, operation, EnumSet.of(expected)), "granted: " + json);
        assertEquals(expected, used(json, operation, EnumSet.complementOf(EnumSet.of(expected))), "only its own grant");
    }

    @Test
    void plainInferencePasses() {
        for (String json : List.of(
                "{'model':'gpt-4o','messages':[{'role':'user','content':'hi'}],'stream':true}",
                "{'messages':[],'tools':[{'type':'function','function':{'name':'f','parameters':{'type':'object',"
                        + "'properties':{'file_id':{'type':'string'},'data_sources':{}}}}}]}",
                "{'messages':[],'response_format':{'type':'json_schema','json_schema':{'schema':{'properties':"
                        + "{'previous_response_id':{}}}}}}",
                "{'messages':[],'metadata':{'file_id':'mine'},'store':false,'background':null}",
                "{'input':'hi','store':false,'previous_response_id':null,'tools':[{'type':'custom','name':'x'}]}",
                "{'prompt':'Say hello','max_tokens':5}",
                "{'messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:image/png;base64,AA'}}]}]}",
                "{'input':'the word file_id and data_sources in a prompt'}")) {
            String body = json.replace('\'', '"');
            String op = body.contains("\"prompt\":\"Say") ? "completions" : "chat/completions";
            assertNull(used(body, op, EnumSet.noneOf(Feature.class)), body);
        }
    }

    @Test
    void aGrantedHostedToolCarriesWhatItNames() {
        String json = "{'tools':[{'type':'file_search','vector_store_ids':['vs_1']}],"
                + "'input':[{'type':'input_file','file_id':'f'}]}";
        assertEquals(
                Feature.FILE_IDS,
                used(json.replace('\'', '"'), "responses", EnumSet.of(Feature.FILE_SEARCH)),
                "the tool's own vector stores pass with it, a file elsewhere does not");
    }

    @Test
    void formFieldsAreJudgedByTheirNames() {
        assertEquals(
                Feature.PREVIOUS_RESPONSE_ID,
                ValidateBodyFeatures.firstNamed(
                        List.of("file", "model", "Previous_Response_Id"), EnumSet.noneOf(Feature.class)));
        assertEquals(
                Feature.FILE_IDS,
                ValidateBodyFeatures.firstNamed(List.of("model", "file_id"), EnumSet.noneOf(Feature.class)));
        assertNull(ValidateBodyFeatures.firstNamed(
                List.of("file", "model", "timestamp_granularities[]"), EnumSet.noneOf(Feature.class)));
    }

    @Test
    void theStartUpCheckKnowsEveryFeatureByItsName() {
        assertEquals(
                ConfigCheck.BODY_FEATURES,
                Arrays.stream(Feature.values()).map(Feature::key).toList());
    }

    @Test
    void theRefusalNamesTheFieldAndTheKeyThatAllowsIt() {
        RequestRefusal refusal = ValidateBodyFeatures.refusal("chat", Feature.DATA_SOURCES);
        assertEquals(400, refusal.status());
        assertEquals(
                "The request body uses data_sources (On Your Data: the resource's identity reads the index it "
                        + "names), which route chat does not allow: add data-sources to "
                        + "aigate.routes.chat.body-features to allow it.",
                refusal.message());
    }
}
