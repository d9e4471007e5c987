<?php
// PHP SoapClient driver (ext-soap), WSDL mode with default options but the endpoint.
// Usage: php driver.php WSDL ENDPOINT SOAP_VERSION(1.1|1.2) PNG TEXT USER PASSWORD
[$_, $wsdl, $endpoint, $version, $pngPath, $textPath, $user, $password] = $argv;
ini_set('soap.wsdl_cache_enabled', '0');  // never hide a contract change behind a cache

$client = new SoapClient($wsdl, [
    'location' => $endpoint,
    'soap_version' => $version === '1.2' ? SOAP_1_2 : SOAP_1_1,
    'exceptions' => true,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'login' => $user,        // HTTP Basic
    'password' => $password,
]);
$people = [['Zoë', 'Ñúñez-李', 0], ['Ada', 'Lovelace', 150]];

function fault(callable $call): array {
    try {
        $call();
    } catch (SoapFault $f) {
        $detail = $f->detail;
        $typed = $detail->ValidationFaultDetail ?? $detail->ImageRejectedFaultDetail;
        return array_merge(['code' => $f->faultcode], (array) $typed);
    }
    throw new RuntimeException('expected a fault');
}

$report = [];
$report['greet'] = $client->Greet(['name' => 'Ada'])->GreetResult;
$t0 = $client->GetTime([])->GetTimeResult;
$report['time_default'] = ['timezone' => $t0->timezone, 'utc' => $t0->utc];
$t1 = $client->GetTime(['timezone' => 'Asia/Kolkata'])->GetTimeResult;
$report['time_zone'] = ['timezone' => $t1->timezone, 'local' => $t1->local];
$report['echo'] = [];
foreach ($people as [$first, $last, $age]) {
    $p = $client->EchoPerson(['person' => ['first_name' => $first, 'last_name' => $last, 'age' => $age]])->EchoPersonResult;
    $report['echo'][] = [$p->first_name, $p->last_name, $p->age];
}
// ext-soap takes raw bytes for xs:base64Binary and encodes them itself.
$r = $client->UploadImage(['filename' => 'picture.png', 'content' => file_get_contents($pngPath)])->UploadImageResult;
$report['upload'] = ['sha256' => $r->sha256, 'size_bytes' => $r->size_bytes, 'format' => $r->format,
                     'width' => $r->width, 'height' => $r->height];
$report['fault_validation'] = fault(fn() => $client->Greet(['name' => ' ']));
$report['fault_age'] = fault(fn() => $client->EchoPerson(['person' => ['first_name' => 'A', 'last_name' => 'B', 'age' => 200]]));
$report['fault_zone'] = fault(fn() => $client->GetTime(['timezone' => 'Mars/Olympus_Mons']));
$report['fault_image'] = fault(fn() => $client->UploadImage(['filename' => 'n.png', 'content' => file_get_contents($textPath)]));
echo json_encode($report, JSON_UNESCAPED_UNICODE), "\n";
