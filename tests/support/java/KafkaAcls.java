// Creates ACL bindings on a Kafka cluster through the Admin API, the way Strimzi's User
// Operator does for a KafkaUser: one line per binding on standard input,
// "principal<TAB>resource type<TAB>name<TAB>pattern type<TAB>operation", e.g.
// "User:pai-notifier	TOPIC	pai.notifier.retry.	PREFIXED	WRITE".
// Run as a single-file program: java -cp '<kafka libs>/*' KafkaAcls.java <bootstrap>
// (the bootstrap of a listener whose principal is a super user).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
  public static void main(String[] args) throws Exception {
    List<AclBinding> bindings = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      String[] f = line.split("\t");
      bindings.add(new AclBinding(
          new ResourcePattern(ResourceType.fromString(f[1]), f[2], PatternType.fromString(f[3])),
          new AccessControlEntry(f[0], "*", AclOperation.fromString(f[4]), AclPermissionType.ALLOW)));
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    try (Admin admin = Admin.create(props)) {
      admin.createAcls(bindings).all().get();
    }
    System.out.println("created " + bindings.size() + " ACL bindings");
  }
}
