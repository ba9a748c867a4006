// Readiness probe for scripts/kafka.sh start, run as a single-file source program on the Kafka
// classpath:  java -cp 'libs/*' KafkaReady.java BOOTSTRAP NODES TIMEOUT_SECONDS [CLIENT_PROPERTIES]
// Exits 0 once describeCluster reports NODES brokers and a controller, 1 on timeout.
// CLIENT_PROPERTIES (may be empty) holds the client's security settings (SASL_SSL...).
import java.io.FileReader;
import java.io.Reader;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

public class KafkaReady {
  public static void main(String[] args) throws Exception {
    if (args.length != 3 && args.length != 4) {
      System.err.println("usage: KafkaReady BOOTSTRAP NODES TIMEOUT_SECONDS [CLIENT_PROPERTIES]");
      System.exit(2);
    }
    String bootstrap = args[0];
    int want = Integer.parseInt(args[1]);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
    Properties p = new Properties();
    if (args.length == 4) {
      try (Reader r = new FileReader(args[3])) {
        p.load(r);
      }
    }
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    String last = "no answer yet";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        try {
          DescribeClusterResult r = admin.describeCluster();
          int n = r.nodes().get(3, TimeUnit.SECONDS).size();
          Node controller = r.controller().get(3, TimeUnit.SECONDS);
          last = n + "/" + want + " brokers, controller " + (controller == null ? "none" : controller.id());
          if (n >= want && controller != null && !controller.isEmpty()) {
            System.out.println(last);
            return;
          }
        } catch (Exception e) {
          last = e.toString();
        }
        Thread.sleep(200);
      }
    }
    System.err.println("not ready: " + last);
    System.exit(1);
  }
}
