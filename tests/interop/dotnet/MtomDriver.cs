// .NET WCF over MTOM (Mono), with the proxy svcutil generates from the contract with default
// options and the binding a WCF client configures for MTOM: a MtomMessageEncodingBindingElement
// for the port's SOAP version over HTTP with Basic authentication.
// Usage: mono mtom.exe ENDPOINT SOAP_VERSION(1.1|1.2) IMAGE USER PASSWORD
using System;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;
using System.Xml;
using soapservice.v1;

static class MtomDriver
{
    const long Max = 64 * 1024 * 1024;

    static string Sha256(byte[] data)
    {
        var b = new StringBuilder();
        using (var sha = SHA256.Create())
            foreach (var x in sha.ComputeHash(data)) b.Append(x.ToString("x2"));
        return b.ToString();
    }

    static int Main(string[] args)
    {
        // A CustomBinding for both versions: Mono's BasicHttpBinding does not pass its
        // ReaderQuotas on to the MTOM encoder, and a 10 MiB image is over the default quota.
        var version = args[1] == "1.2" ? MessageVersion.Soap12 : MessageVersion.Soap11;
        var mtom = new MtomMessageEncodingBindingElement(version, Encoding.UTF8);
        mtom.ReaderQuotas = XmlDictionaryReaderQuotas.Max;
        Binding binding = new CustomBinding(mtom, new HttpTransportBindingElement {
            AuthenticationScheme = System.Net.AuthenticationSchemes.Basic,
            MaxReceivedMessageSize = Max, MaxBufferSize = (int)Max });
        binding.SendTimeout = binding.ReceiveTimeout = TimeSpan.FromMinutes(5);
        var api = new SoapServicePortTypeClient(binding, new EndpointAddress(args[0]));
        api.ClientCredentials.UserName.UserName = args[3];
        api.ClientCredentials.UserName.Password = args[4];
        var image = File.ReadAllBytes(args[2]);
        var clock = Stopwatch.StartNew();
        var receipt = api.UploadImage("big.png", image, "image/png");
        var uploaded = clock.ElapsedMilliseconds;
        var back = api.GetImage(receipt.image_id);
        var downloaded = clock.ElapsedMilliseconds - uploaded;
        Console.WriteLine("{\"sha256\":\"" + receipt.sha256 + "\",\"size_bytes\":" + receipt.size_bytes
            + ",\"back_sha256\":\"" + Sha256(back.content) + "\",\"upload_ms\":" + uploaded
            + ",\"download_ms\":" + downloaded + "}");
        return 0;
    }
}
