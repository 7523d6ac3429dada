// Post one event to the PAI gateway from Java 11+, signed by the Standard Webhooks library
// (Maven: com.standardwebhooks:standardwebhooks:1.2.0; 1.0.0 on Maven Central is empty).
//   java -cp standardwebhooks-1.2.0.jar PostEvent.java event.json
// with GATEWAY, OPS_CODE and INBOUND_SECRET in the environment. Prints the answer's status
// and body; exits 0 on 200 (a repeat) or 202 (written).
import com.standardwebhooks.Webhook;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

public class PostEvent {
    public static void main(String[] args) throws Exception {
        String gateway = System.getenv("GATEWAY");
        String opsCode = System.getenv("OPS_CODE");
        Webhook signer = new Webhook(System.getenv("INBOUND_SECRET"));
        byte[] body = Files.readAllBytes(Path.of(args[0])); // the exact bytes signed and sent

        String webhookId = "msg_" + UUID.randomUUID().toString().replace("-", "");
        long timestamp = System.currentTimeMillis() / 1000; // new for every attempt
        String signature = signer.sign(webhookId, timestamp, new String(body, StandardCharsets.UTF_8));

        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway + "/v1/partners/" + opsCode + "/events"))
                .timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json")
                .header("webhook-id", webhookId)
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println(response.statusCode() + " " + response.body());
        System.exit(response.statusCode() == 200 || response.statusCode() == 202 ? 0 : 1);
    }
}
