// Apache Axis 1.4 driver, compiled against the classes WSDL2Java generates with default
// options from the SOAP 1.1 view of the contract (GET /soap?wsdl=soap11; Axis 1.4 reads
// SOAP 1.1 only and aborts on the full contract's SOAP 1.2 binding).
// Usage: java AxisDriver PNG TEXT USER PASSWORD
//
// As the Axis User's Guide shows a generated client: the <Service>Locator, its port
// getter (the address is the WSDL's soap:address), then calls on the stub. HTTP Basic is
// the stub's setUsername/setPassword. A declared fault surfaces as the generated class
// for its detail (ValidationFaultDetail, ImageRejectedFaultDetail: AxisFault subclasses)
// with the detail's fields as getters; the class is the code, as in the JAX-WS driver.
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import v1.soap_service.HttpHeader;
import v1.soap_service.ImageData;
import v1.soap_service.ImagePage;
import v1.soap_service.ImageReceipt;
import v1.soap_service.ImageRejectedFaultDetail;
import v1.soap_service.Person;
import v1.soap_service.SoapService;
import v1.soap_service.SoapServiceLocator;
import v1.soap_service.SoapServicePortType;
import v1.soap_service.SoapServiceSoap11BindingStub;
import v1.soap_service.TimeInfo;
import v1.soap_service.ValidationFaultDetail;

public class AxisDriver {
  interface Call { void run() throws Exception; }

  static String json(Object value) {
    if (value == null) return "null";
    if (value instanceof Number) return value.toString();
    if (value instanceof Map) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        if (b.length() > 1) b.append(',');
        b.append(json(e.getKey().toString())).append(':').append(json(e.getValue()));
      }
      return b.append('}').toString();
    }
    if (value instanceof List) {
      StringBuilder b = new StringBuilder("[");
      for (Object o : (List<?>) value) { if (b.length() > 1) b.append(','); b.append(json(o)); }
      return b.append(']').toString();
    }
    StringBuilder b = new StringBuilder("\"");
    for (char c : value.toString().toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  /** The instant as ISO 8601 in the Calendar's own zone (Axis reads xs:dateTime into one). */
  static String iso(Calendar c) {
    SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    f.setTimeZone(c.getTimeZone());
    return f.format(c.getTime());
  }

  static String sha256(byte[] data) throws Exception {
    StringBuilder b = new StringBuilder();
    for (byte x : MessageDigest.getInstance("SHA-256").digest(data)) b.append(String.format("%02x", x));
    return b.toString();
  }

  static Map<String, Object> fault(Call call) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      call.run();
    } catch (ValidationFaultDetail f) {
      out.put("code", f.getClass().getSimpleName());
      out.put("field", f.getField());
      out.put("reason", f.getReason());
      return out;
    } catch (ImageRejectedFaultDetail f) {
      out.put("code", f.getClass().getSimpleName());
      out.put("reason", f.getReason().getValue());
      out.put("message", f.getMessage1());
      return out;
    }
    throw new AssertionError("expected a declared fault");
  }

  public static void main(String[] args) throws Exception {
    SoapService service = new SoapServiceLocator();
    SoapServicePortType port = service.getSoapServiceSoap11();
    ((SoapServiceSoap11BindingStub) port).setUsername(args[2]);  // HTTP Basic
    ((SoapServiceSoap11BindingStub) port).setPassword(args[3]);
    final SoapServicePortType api = port;

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("greet", api.greet("Ada"));
    for (HttpHeader h : api.describeRequest().getHeaders()) {  // what Axis sends as Accept
      if (h.getName().equalsIgnoreCase("Accept")) report.put("accept", h.getValue());
    }
    TimeInfo t0 = api.getTime(null);
    report.put("time_default", Map.of("timezone", t0.getTimezone(), "utc", iso(t0.getUtc())));
    TimeInfo t1 = api.getTime("Asia/Kolkata");
    report.put("time_zone", Map.of("timezone", t1.getTimezone(), "local", iso(t1.getLocal())));
    Object[][] people = {{"Zo\u00eb", "\u00d1\u00fa\u00f1ez-\u674e", 0}, {"Ada", "Lovelace", 150}};
    List<Object> echoed = new ArrayList<>();
    for (Object[] p : people) {
      Person back = api.echoPerson(new Person((String) p[0], (String) p[1], (Integer) p[2]));
      echoed.add(List.of(back.getFirst_name(), back.getLast_name(), back.getAge()));
    }
    report.put("echo", echoed);
    byte[] png = Files.readAllBytes(Paths.get(args[0]));
    ImageReceipt r = api.uploadImage("picture.png", png, null);  // byte[] for base64Binary
    Map<String, Object> upload = new LinkedHashMap<>();
    upload.put("image_id", r.getImage_id());
    upload.put("sha256", r.getSha256());
    upload.put("size_bytes", r.getSize_bytes());
    upload.put("format", r.getFormat());
    upload.put("width", r.getWidth());
    upload.put("height", r.getHeight());
    report.put("upload", upload);

    Map<String, Object> listed = new LinkedHashMap<>();
    String token = null;
    do {
      ImagePage page = api.listImages(100, token);
      for (ImageReceipt each : page.getImages() == null ? new ImageReceipt[0] : page.getImages()) {
        if (each.getImage_id().equals(r.getImage_id()) && listed.isEmpty()) {
          listed.put("image_id", each.getImage_id());
          listed.put("sha256", each.getSha256());
          listed.put("size_bytes", each.getSize_bytes());
        }
      }
      token = page.getNext_page_token();
    } while (listed.isEmpty() && token != null);
    report.put("listed", listed);

    ImageData got = api.getImage(r.getImage_id());
    byte[] content = got.getContent();  // byte[], as Axis maps base64Binary
    Map<String, Object> image = new LinkedHashMap<>();
    image.put("image_id", got.getImage_id());
    image.put("filename", got.getFilename());
    image.put("sha256", sha256(content));
    image.put("size_bytes", content.length);
    report.put("image", image);

    report.put("fault_validation", fault(() -> api.greet(" ")));
    report.put("fault_age", fault(() -> api.echoPerson(new Person("A", "B", 200))));
    report.put("fault_zone", fault(() -> api.getTime("Mars/Olympus_Mons")));
    byte[] text = Files.readAllBytes(Paths.get(args[1]));
    report.put("fault_image", fault(() -> api.uploadImage("n.png", text, null)));
    System.out.println(json(report));
  }
}
