// The component adapters' types against the components' own: the Element Plus handler must
// be an `UploadRequestHandler` (the type of `<el-upload :http-request>`) and the Ant Design one
// an `UploadProps['customRequest']`, as the installed element-plus 2.14.8 and antd 6.6.8
// declare them. `tsc -p tsconfig.components.json` (scripts/test.sh); skipLibCheck there
// because the two libraries' own .d.ts are not ours to check.
import type { UploadRequestHandler } from 'element-plus';
import type { UploadProps } from 'antd';
import { StorageClient } from '../../pkg/index.js';
import { elementPlusUpload } from '../../pkg/element-plus.js';
import { antdUpload } from '../../pkg/antd.js';
import type { UploadComponentOptions } from '../../pkg/antd.js';

export function useAdapters(storage: StorageClient): void {
  const options: UploadComponentOptions = { path: async (file: File) => `uploads/${file.name}`, image: true, concurrency: 3 };
  const forElementPlus: UploadRequestHandler = elementPlusUpload(storage, options);
  const forAntd: UploadProps['customRequest'] = antdUpload(storage, { path: (file) => `uploads/${file.name}` });
  console.log(forElementPlus, forAntd);
  // @ts-expect-error path is required
  antdUpload(storage, {});
  // @ts-expect-error the path is a function of the file, not a string
  elementPlusUpload(storage, { path: 'uploads/a.png' });
  // @ts-expect-error the handler is not a customRequest's shape for another component's options
  const wrong: UploadRequestHandler = (options: { file: number }) => Promise.resolve(options);
  console.log(wrong);
}
