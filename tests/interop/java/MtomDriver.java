// JAX-WS RI over MTOM: the same generated classes as Driver.java, with MTOMFeature on.
// Usage: java MtomDriver IMAGE USER PASSWORD
//
// Port.open(mtom) is the generated getter with the feature, as JAX-WS documents MTOM on a
// client: `new SoapService().getSoapServiceSoap11(new MTOMFeature(true, 0))` (or Soap12).
// MTOMFeature(true, 0): every base64Binary value goes as an XOP attachment, whatever
// its size. The service answers in kind, so GetImage's content comes back as a part.
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Map;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.MTOMFeature;
import service.soap.v1.ImageData;
import service.soap.v1.ImageReceipt;
import service.soap.v1.SoapServicePortType;

public class MtomDriver {
  static String sha256(byte[] data) throws Exception {
    StringBuilder b = new StringBuilder();
    for (byte x : MessageDigest.getInstance("SHA-256").digest(data)) b.append(String.format("%02x", x));
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    SoapServicePortType port = Port.open(new MTOMFeature(true, 0));
    Map<String, Object> request = ((BindingProvider) port).getRequestContext();
    request.put(BindingProvider.USERNAME_PROPERTY, args[1]);
    request.put(BindingProvider.PASSWORD_PROPERTY, args[2]);
    byte[] image = Files.readAllBytes(Paths.get(args[0]));
    long started = System.nanoTime();
    ImageReceipt receipt = port.uploadImage("big.png", image, "image/png");
    long uploaded = System.nanoTime();
    ImageData back = port.getImage(receipt.getImageId());
    long downloaded = System.nanoTime();
    System.out.println("{\"sha256\":\"" + receipt.getSha256() + "\",\"size_bytes\":"
        + receipt.getSizeBytes() + ",\"back_sha256\":\"" + sha256(back.getContent())
        + "\",\"upload_ms\":" + (uploaded - started) / 1000000
        + ",\"download_ms\":" + (downloaded - uploaded) / 1000000 + "}");
  }
}
