<?php
// PHP SoapClient driver (ext-soap), WSDL mode as PHP's manual shows it:
//   new SoapClient($wsdl, ['login' => $user, 'password' => $password])
// on the served WSDL, no 'location', so the address is the WSDL's. USAGE is
//   default  no other option: SoapClient binds the WSDL's first port (SoapServiceSoap11,
//            /soap) and sends SOAP 1.1, its documented default version
//   1.2      adds the documented 'soap_version' => SOAP_1_2 option, nothing else
// Usage: php driver.php WSDL_URL USAGE PNG TEXT USER PASSWORD
[$_, $wsdl, $usage, $pngPath, $textPath, $user, $password] = $argv;

$options = ['login' => $user, 'password' => $password];  // HTTP Basic, as the manual shows
if ($usage === '1.2') {
    $options['soap_version'] = SOAP_1_2;
}
$client = new SoapClient($wsdl, $options);
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

// ext-soap hands a repeated element over as an array, a single one as the object itself
function items($x): array {
    return $x === null ? [] : (is_array($x) ? $x : [$x]);
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
// ext-soap takes raw bytes (a PHP string) for xs:base64Binary and encodes them itself.
$r = $client->UploadImage(['filename' => 'picture.png', 'content' => file_get_contents($pngPath)])->UploadImageResult;
$report['upload'] = ['image_id' => $r->image_id, 'sha256' => $r->sha256, 'size_bytes' => $r->size_bytes,
                     'format' => $r->format, 'width' => $r->width, 'height' => $r->height];
$token = null;
for (;;) {
    $args = $token === null ? ['page_size' => 100] : ['page_size' => 100, 'page_token' => $token];
    $page = $client->ListImages($args)->ListImagesResult;
    foreach (items($page->images->ImageReceipt ?? null) as $i) {
        if ($i->image_id === $r->image_id) {
            $report['listed'] = ['image_id' => $i->image_id, 'sha256' => $i->sha256, 'size_bytes' => $i->size_bytes];
            break 2;
        }
    }
    $token = $page->next_page_token ?? null;
    if ($token === null) {
        throw new RuntimeException("ListImages never showed {$r->image_id}");
    }
}
// and decodes it back to raw bytes, a PHP string
$image = $client->GetImage(['image_id' => $r->image_id])->GetImageResult;
$report['image'] = ['image_id' => $image->image_id, 'filename' => $image->filename,
                    'sha256' => hash('sha256', $image->content), 'size_bytes' => strlen($image->content)];
$report['fault_validation'] = fault(fn() => $client->Greet(['name' => ' ']));
$report['fault_age'] = fault(fn() => $client->EchoPerson(['person' => ['first_name' => 'A', 'last_name' => 'B', 'age' => 200]]));
$report['fault_zone'] = fault(fn() => $client->GetTime(['timezone' => 'Mars/Olympus_Mons']));
$report['fault_image'] = fault(fn() => $client->UploadImage(['filename' => 'n.png', 'content' => file_get_contents($textPath)]));
echo json_encode($report, JSON_UNESCAPED_UNICODE), "\n";
