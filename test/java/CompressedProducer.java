import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * An independent producer for the compression tests: Apache Kafka's own Java client (from the
 * broker's Maven classpath), sending pre-encoded values with compression.type as given, in one
 * batch so the broker stores them as one compressed record batch.
 *
 * usage: java -cp CLASSPATH CompressedProducer.java BROKERS TOPIC CODEC FILE
 * FILE holds one record per line: KEY<TAB>VALUE_HEX.
 */
public class CompressedProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args[2]);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "50");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, "1048576");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    List<String> lines = Files.readAllLines(Path.of(args[3]));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String line : lines) {
        if (line.isEmpty()) continue;
        String[] parts = line.split("\t", 2);
        producer.send(new ProducerRecord<>(args[1], 0, parts[0].getBytes("UTF-8"), hex(parts[1])));
      }
      producer.flush();
    }
    System.out.println("sent " + lines.size() + " records with " + args[2]);
  }

  private static byte[] hex(String s) {
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return out;
  }
}
